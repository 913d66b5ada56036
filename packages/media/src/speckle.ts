import { otsuThreshold, type GreyImage } from './skew';

/**
 * The share of pixels that are dark specks: ink with no ink among its eight
 * neighbours. Text strokes are never one pixel alone at scanning
 * resolutions; dust, toner spray and scanner noise are.
 */
export function speckleRatio(image: GreyImage): number {
  const { data, width, height } = image;
  if (width < 3 || height < 3) return 0;
  const threshold = otsuThreshold(image);
  let specks = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      if (data[i]! >= threshold) continue;
      if (
        data[i - 1]! >= threshold &&
        data[i + 1]! >= threshold &&
        data[i - width]! >= threshold &&
        data[i + width]! >= threshold &&
        data[i - width - 1]! >= threshold &&
        data[i - width + 1]! >= threshold &&
        data[i + width - 1]! >= threshold &&
        data[i + width + 1]! >= threshold
      ) {
        specks++;
      }
    }
  }
  return specks / ((width - 2) * (height - 2));
}
