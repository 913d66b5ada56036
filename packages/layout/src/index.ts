export type { InputLine, InputWord, PageInput, Rule } from './input';
export { linesFromRuns, type TextRun } from './text-items';
export { analysePage } from './page';
export { assembleLayout, plainTextLayout } from './document';
export { chunksOf, estimateTokens, tableCsv, tableRows, tablesOf, toMarkdown } from './exports';
export { readLayout, readPageLayout, writeLayout, writePageLayout } from './stored';
export { letterSize } from './letter-size';
