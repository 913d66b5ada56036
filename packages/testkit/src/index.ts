export { renderTextPng, type RenderOptions } from './render';
export { makePdf, type PdfPageSpec } from './pdf';
export { pngHeaderOnly } from './bomb';
export { characterErrorRate, editDistance } from './cer';
export { TEST_REDIS_URL, testPrefix, deletePrefix, waitFor } from './redis';
export { CORPUS_DIR, corpusAvailable, corpusExpected, corpusFile, normalizeText, missingWords, type CorpusExpectation } from './corpus';
export { stepContext } from './step-context';
export { freePort, orchestratorReady, preparedPage } from './fixtures';
export { CLI, launch, processesOf, untilReady, whenAllExited, type Launch } from './launch';
