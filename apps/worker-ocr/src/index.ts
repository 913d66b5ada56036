// The step's logic, for tests that drive it together with another app's (tests/).
export { combineDocument, combinePages, ocr, ocrPage, ocrSettings, type OcrSettings, type PageText } from './ocr';
export { TesseractEngine } from './tesseract-engine';
export { NativeTesseractEngine } from './native-engine';
export type { OcrEngine } from './engine';
export { searchablePdf, toSourcePixels } from './searchable-pdf';
