import { z } from 'zod';

/** A box on a page, in pixels of the page as it was read (preprocessing's width x height), y down. */
export const boxSchema = z.object({ x0: z.number(), y0: z.number(), x1: z.number(), y1: z.number() });
export type Box = z.infer<typeof boxSchema>;

export const BLOCK_TYPES = ['heading', 'paragraph', 'list_item', 'table', 'figure', 'caption', 'header', 'footer', 'page_number'] as const;
export type BlockType = (typeof BLOCK_TYPES)[number];

const layoutWordSchema = z.object({ text: z.string(), bbox: boxSchema, confidence: z.number().optional() });

const layoutLineSchema = z.object({ text: z.string(), bbox: boxSchema, words: z.array(layoutWordSchema) });
export type LayoutLine = z.infer<typeof layoutLineSchema>;

const tableCellSchema = z.object({
  row: z.number().int().min(0),
  column: z.number().int().min(0),
  rowSpan: z.number().int().min(1),
  columnSpan: z.number().int().min(1),
  text: z.string(),
  bbox: boxSchema,
});
export type TableCell = z.infer<typeof tableCellSchema>;

export const tableSchema = z.object({
  rows: z.number().int().min(1),
  columns: z.number().int().min(1),
  /** Rows at the top that head the columns. */
  headerRows: z.number().int().min(0),
  /** Drawn with ruling lines (true) or laid out by whitespace alone. */
  ruled: z.boolean(),
  cells: z.array(tableCellSchema),
});
export type Table = z.infer<typeof tableSchema>;

export const layoutBlockSchema = z.object({
  type: z.enum(BLOCK_TYPES),
  /** Headings: 1 for the document's largest, then down. */
  level: z.number().int().min(1).max(6).optional(),
  bbox: boxSchema,
  text: z.string(),
  /** Font size in pixels (the text layer's, or the height of the line's letters on a scan) and whether it is bold. */
  style: z.object({ size: z.number(), bold: z.boolean() }),
  lines: z.array(layoutLineSchema),
  table: tableSchema.optional(),
});
export type LayoutBlock = z.infer<typeof layoutBlockSchema>;

export const layoutPageSchema = z.object({
  index: z.number().int().min(0),
  width: z.number(),
  height: z.number(),
  source: z.enum(['ocr', 'text-layer', 'text']),
  /** In reading order: headers first, then the body column by column, then footers and the page number. */
  blocks: z.array(layoutBlockSchema),
});
export type LayoutPage = z.infer<typeof layoutPageSchema>;

export const layoutSchema = z.object({ pages: z.array(layoutPageSchema) });
export type Layout = z.infer<typeof layoutSchema>;

/** One table as the API gives it: rows of cell texts, a spanning cell's text in its first row and column, "" in the rest. */
export const tableExportSchema = z.object({
  page: z.number().int().min(0),
  bbox: boxSchema,
  headerRows: z.number().int().min(0),
  rows: z.array(z.array(z.string())),
});
export type TableExport = z.infer<typeof tableExportSchema>;

/** A piece of the document for retrieval: whole sentences and tables, under its headings. */
export const chunkSchema = z.object({
  index: z.number().int().min(0),
  /** Markdown of the blocks it holds. */
  text: z.string(),
  /** The headings it stands under, outermost first (its own heading last when it opens with one). */
  headings: z.array(z.string()),
  pages: z.array(z.number().int().min(0)),
  boxes: z.array(z.object({ page: z.number().int().min(0), bbox: boxSchema })),
  /** Estimated tokens (four characters each). */
  tokens: z.number().int().min(0),
});
export type Chunk = z.infer<typeof chunkSchema>;
