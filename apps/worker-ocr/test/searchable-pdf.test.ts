import sharp from 'sharp';
import { toSourcePixels } from '@docproc/worker-ocr';

/** Where the dark square of a white greyscale image lies (its centre). */
async function squareIn(png: Buffer): Promise<{ x: number; y: number; width: number; height: number }> {
  const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  let [sx, sy, n] = [0, 0, 0];
  for (let y = 0; y < info.height; y++)
    for (let x = 0; x < info.width; x++)
      if (data[(y * info.width + x) * info.channels]! < 128) {
        sx += x;
        sy += y;
        n++;
      }
  return { x: sx / n + 0.5, y: sy / n + 0.5, width: info.width, height: info.height };
}

describe('toSourcePixels', () => {
  it.each([
    [0, 4],
    [0, -6],
    [90, 3],
    [180, 0],
    [270, -5],
    [90, 0],
  ])('undoes a turn of %i degrees and a straightening of %i degrees as sharp made them', async (turn, straighten) => {
    // a page with a dark square whose centre is at (53, 23)
    const pixels = Buffer.alloc(400 * 200 * 3, 255);
    for (let y = 20; y < 26; y++) for (let x = 50; x < 56; x++) pixels.fill(0, (y * 400 + x) * 3, (y * 400 + x) * 3 + 3);
    let page = await sharp(pixels, { raw: { width: 400, height: 200, channels: 3 } })
      .png()
      .toBuffer();
    // as preprocessing's finishPage: turn, then rotate about the centre onto a larger white canvas
    if (turn) page = await sharp(page).rotate(turn).png().toBuffer();
    if (straighten)
      page = await sharp(page)
        .rotate(straighten, { background: { r: 255, g: 255, b: 255 } })
        .png()
        .toBuffer();
    const found = await squareIn(page);
    const back = toSourcePixels(found, { width: found.width, height: found.height, turn, straighten });
    expect(Math.abs(back.x - 53)).toBeLessThan(0.8);
    expect(Math.abs(back.y - 23)).toBeLessThan(0.8);
  });
});
