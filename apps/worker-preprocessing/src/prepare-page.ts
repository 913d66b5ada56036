import {
  despeckle,
  estimateSkew,
  finishPage,
  greyPgm,
  lineShape,
  pageScale,
  shrink,
  speckleRatio,
  turnPage,
  uprightByLines,
  type GreyImage,
} from '@docproc/media';
import { Stages } from '@docproc/runtime';
import type { OrientationDetector } from './orientation';

export interface PageSettings {
  targetDpi: number;
  maxPagePixels: number;
  deskew: boolean;
  rotatePages: boolean;
  /** Whether a page whose lines show it upright (uprightByLines) skips orientation detection: the document's scripts have ascenders. */
  uprightFromLines: boolean;
  /** Orientation confidence from which a page is turned. */
  rotateThreshold: number;
  binarize: boolean;
}

export interface PreparedPage {
  pgm: Buffer;
  width: number;
  height: number;
  /** Degrees turned clockwise by orientation detection. */
  turn: number;
  /** How the page's orientation was found: its lines showed it upright, Tesseract's OSD, or not looked for. */
  orientedBy: 'lines' | 'osd' | null;
  /** Degrees rotated by to straighten the lines. */
  skewAngle: number;
  /** Whether specks were filtered out. */
  despeckled: boolean;
  dpi: number | null;
}

/** Skew below this is left alone: resampling costs more than it gains. */
const MIN_SKEW_DEGREES = 0.3;
/** The lines must lie this much flatter at the found angle than as they are, or the angle is noise. */
const MIN_SKEW_GAIN = 1.1;
/** More lone dark pixels than this share (0.1 %) is scanner noise worth a median filter. */
const SPECKLE_RATIO = 0.001;
/** Orientation detection reads a copy about 150-200 dpi on a letter page: enough, and quick. */
const ORIENTATION_SIDE = 1600;
/** Skew is estimated on a copy this wide: the angle survives scaling, the cost does not. */
const SKEW_SIDE = 1000;

/**
 * One page made ready for OCR: turned upright (Tesseract OSD, unless its lines show it
 * upright already), straightened
 * (projection profile, up to 15 degrees), brought to the target resolution
 * within the pixel ceiling, normalised, optionally binarised.
 */
export async function preparePage(
  grey: GreyImage,
  density: { dpi: number; known: boolean } | null,
  settings: PageSettings,
  orientation: OrientationDetector | undefined,
  signal?: AbortSignal,
  stages = new Stages(),
): Promise<PreparedPage> {
  // Specks confuse orientation detection, skew estimation and OCR alike: filter them first.
  const despeckled = speckleRatio(grey) > SPECKLE_RATIO;
  if (despeckled) grey = await stages.time('despeckle', () => despeckle(grey));
  const small = await shrink(grey, SKEW_SIDE);
  let turn = 0;
  let orientedBy: PreparedPage['orientedBy'] = null;
  if (settings.rotatePages && orientation) {
    // OSD costs 0.25 CPU-s a page: asked only where the lines leave the page's upright open
    if (settings.uprightFromLines && (await stages.time('orientation', async () => uprightByLines(lineShape(small))))) orientedBy = 'lines';
    else {
      orientedBy = 'osd';
      const found = await stages.time('orientation', async () => orientation.detect(greyPgm(await shrink(grey, ORIENTATION_SIDE)), signal));
      if (found && found.degrees !== 0 && found.confidence >= settings.rotateThreshold) turn = found.degrees;
    }
  }
  let skewAngle = 0;
  if (settings.deskew) {
    const skew = await stages.time('deskew', async () => estimateSkew(await turnPage(small, turn)));
    if (Math.abs(skew.angle) >= MIN_SKEW_DEGREES && skew.gain >= MIN_SKEW_GAIN) skewAngle = -skew.angle;
  }
  const { scale, dpi } = pageScale(grey.width, grey.height, density, settings.targetDpi, settings.maxPagePixels);
  // turn, straighten, scale, normalise, encode the PNG OCR reads
  const page = await stages.time('finish', () => finishPage(grey, { turn, straighten: skewAngle, scale, binarize: settings.binarize }));
  return { ...page, turn, orientedBy, skewAngle, dpi, despeckled };
}
