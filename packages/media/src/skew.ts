/** A greyscale image as raw bytes, one per pixel, 0 black to 255 white. */
export interface GreyImage {
  data: Buffer;
  width: number;
  height: number;
}

/** Otsu's threshold: the grey level that best splits the histogram into ink and paper. */
export function otsuThreshold(image: GreyImage): number {
  const histogram = new Array<number>(256).fill(0);
  for (const value of image.data) histogram[value]!++;
  const total = image.data.length;
  let sumAll = 0;
  for (let i = 0; i < 256; i++) sumAll += i * histogram[i]!;
  let sumBelow = 0;
  let countBelow = 0;
  let best = 0;
  let threshold = 128;
  for (let t = 0; t < 256; t++) {
    countBelow += histogram[t]!;
    if (countBelow === 0) continue;
    const countAbove = total - countBelow;
    if (countAbove === 0) break;
    sumBelow += t * histogram[t]!;
    const meanBelow = sumBelow / countBelow;
    const meanAbove = (sumAll - sumBelow) / countAbove;
    const between = countBelow * countAbove * (meanBelow - meanAbove) ** 2;
    if (between > best) {
      best = between;
      threshold = t;
    }
  }
  return threshold;
}

/** Sum of squared row counts of the ink points turned by `degrees`: peaks when text lines lie flat. */
export function profileScore(xs: Float64Array, ys: Float64Array, degrees: number, rows: Float64Array): number {
  const radians = (degrees * Math.PI) / 180;
  const sin = Math.sin(radians);
  const cos = Math.cos(radians);
  rows.fill(0);
  const offset = rows.length / 2;
  for (let i = 0; i < xs.length; i++) {
    const row = Math.round(ys[i]! * cos - xs[i]! * sin + offset);
    if (row >= 0 && row < rows.length) rows[row]!++;
  }
  let score = 0;
  for (const count of rows) score += count * count;
  return score;
}

export interface SkewEstimate {
  /** Degrees the text lines run clockwise from horizontal; rotate by minus this to straighten. */
  angle: number;
  /** How much flatter the lines lie at `angle` than as they are (1 = no better). */
  gain: number;
}

/** A page's ink as points about its centre (a sample of at most ~120,000), and a histogram for their rows; null for no ink or more ink than paper. */
export function inkPoints(image: GreyImage): { xs: Float64Array; ys: Float64Array; rows: Float64Array } | null {
  const threshold = otsuThreshold(image);
  const { data, width, height } = image;
  let ink = 0;
  for (const value of data) if (value < threshold) ink++;
  // No ink, or more ink than paper (a photo, a dark page): no text lines to go by.
  if (ink < 50 || ink > data.length * 0.5) return null;
  const stride = Math.max(1, Math.ceil(ink / 120_000));
  const count = Math.ceil(ink / stride);
  const xs = new Float64Array(count);
  const ys = new Float64Array(count);
  let seen = 0;
  let n = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[y * width + x]! < threshold && seen++ % stride === 0 && n < count) {
        xs[n] = x - width / 2;
        ys[n] = y - height / 2;
        n++;
      }
    }
  }
  return { xs: xs.subarray(0, n), ys: ys.subarray(0, n), rows: new Float64Array(Math.ceil(Math.hypot(width, height)) + 2) };
}

/**
 * Estimates the skew of text lines by the projection-profile method (as
 * Leptonica's and OCRmyPDF's deskew do): the ink's row histogram is sharpest
 * when the lines are horizontal. Searches ±maxDegrees coarsely, then finely.
 * Expects a downscaled page (about 1,000 px wide): cost grows with ink pixels.
 */
export function estimateSkew(image: GreyImage, maxDegrees = 15): SkewEstimate {
  const ink = inkPoints(image);
  if (!ink) return { angle: 0, gain: 1 };
  const { xs, ys, rows } = ink;
  const score = (degrees: number) => profileScore(xs, ys, degrees, rows);

  let best = 0;
  let bestScore = score(0);
  const flat = bestScore;
  for (let degrees = -maxDegrees; degrees <= maxDegrees; degrees += 0.5) {
    const s = score(degrees);
    if (s > bestScore) [best, bestScore] = [degrees, s];
  }
  const coarse = best;
  for (let degrees = coarse - 0.5; degrees <= coarse + 0.5; degrees += 0.05) {
    const s = score(degrees);
    if (s > bestScore) [best, bestScore] = [degrees, s];
  }
  return { angle: Math.round(best * 100) / 100, gain: flat === 0 ? 1 : bestScore / flat };
}
