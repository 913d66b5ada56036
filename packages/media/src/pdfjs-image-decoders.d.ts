/** The part of pdf.js's standalone image decoders (shipped without types) that pdf-scans.ts uses. */
declare module 'pdfjs-dist/image_decoders/pdf.image_decoders.mjs' {
  export class Jbig2Image {
    /** The page's bits, rows padded to a byte, a 1 bit black. */
    parseChunks(chunks: { data: Uint8Array; start: number; end: number }[]): Uint8Array;
    width: number;
    height: number;
  }
}
