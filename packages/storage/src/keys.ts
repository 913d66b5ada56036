import type { StepName } from '@docproc/catalog';

/** The one place that says where a batch's blobs live. */
export const blobKeys = {
  batch: (batchId: string) => `batches/${batchId}`,
  /** The uploaded files of a batch share one directory: storing 10,000 of them must not make 10,000 directories. */
  original: (batchId: string, documentId: string) => `batches/${batchId}/originals/${documentId}`,
  /** The small uploaded files of a batch, packed in one blob (each document's key names its part: blob-parts.ts). */
  originalsPack: (batchId: string) => `batches/${batchId}/originals.pack`,
  /** A prepared page, 8-bit grey PGM (media's finishPage). */
  page: (batchId: string, documentId: string, index: number) => `batches/${batchId}/documents/${documentId}/pages/${index}.pgm`,
  /** A page's layout (a LayoutPage), made where the page was read. */
  pageLayout: (batchId: string, documentId: string, index: number) => `batches/${batchId}/documents/${documentId}/pages/${index}.layout.json`,
  /** The document's layout (a Layout), put together from its pages'. */
  layout: (batchId: string, documentId: string) => `batches/${batchId}/documents/${documentId}/results/layout.json`,
  result: (batchId: string, documentId: string, step: StepName) => `batches/${batchId}/documents/${documentId}/results/${step}.json`,
  /** The page results of a paged step, kept until the pages are put together ... */
  pageResults: (batchId: string, documentId: string, step: StepName) => `batches/${batchId}/documents/${documentId}/page-results/${step}`,
  /** ... one per page. */
  pageResult: (batchId: string, documentId: string, step: StepName, index: number) =>
    `batches/${batchId}/documents/${documentId}/page-results/${step}/${index}.json`,
  /** Terms that set each document apart from the rest of its batch, made once the batch ended. */
  batchKeyTerms: (batchId: string) => `batches/${batchId}/key-terms.json`,
  searchablePdf: (batchId: string, documentId: string) => `batches/${batchId}/documents/${documentId}/results/searchable.pdf`,
  hocr: (batchId: string, documentId: string, index: number) => `batches/${batchId}/documents/${documentId}/results/ocr/pages/${index}.hocr`,
};
