import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

/** Whether Debian's libtiff-tools (ppm2tiff) and img2pdf are here to make fax scans. */
export const hasFaxTools = () => ['ppm2tiff', 'img2pdf'].every((tool) => spawnSync(tool, ['--help'], { stdio: 'ignore' }).error === undefined);

/**
 * A PDF of 1-bit CCITT Group 4 pages at `dpi`, as office and archive scanners write them:
 * each image thresholded at mid-grey, written as PBM, encoded by libtiff's `ppm2tiff -c g4`,
 * and put in a PDF by `img2pdf`, which keeps the G4 data as it is.
 */
export async function faxPdf(images: Buffer[], dpi = 300): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'docproc-fax-'));
  const tiffs: string[] = [];
  for (const [i, image] of images.entries()) {
    const { data, info } = await sharp(image).greyscale().raw().toBuffer({ resolveWithObject: true });
    const row = Math.ceil(info.width / 8);
    const bits = Buffer.alloc(row * info.height);
    for (let y = 0; y < info.height; y++) {
      for (let x = 0; x < info.width; x++) if (data[y * info.width + x]! < 128) bits[y * row + (x >> 3)]! |= 0x80 >> (x & 7);
    }
    const pbm = join(dir, `page-${i}.pbm`);
    writeFileSync(pbm, Buffer.concat([Buffer.from(`P4\n${info.width} ${info.height}\n`), bits]));
    execFileSync('ppm2tiff', ['-c', 'g4', '-R', String(dpi), pbm, `${pbm}.tif`]);
    tiffs.push(`${pbm}.tif`);
  }
  execFileSync('img2pdf', [...tiffs, '-o', join(dir, 'scan.pdf')]);
  return readFileSync(join(dir, 'scan.pdf'));
}
