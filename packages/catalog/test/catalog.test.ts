import {
  CorruptDocumentError,
  compileJsonSchema,
  RetryableError,
  jobOptionsSchema,
  parsePipeline,
  prioritySchema,
  stepPayloadSchema,
  stepsBefore,
  toDocumentError,
  toQueuePriority,
} from '@docproc/catalog';

describe('pipelines', () => {
  it('parses steps in order and ignores spaces', () => {
    expect(parsePipeline('ocr, nlp')).toEqual(['ocr', 'nlp']);
    expect(parsePipeline('preprocess,ocr,nlp,validate')).toEqual(['preprocess', 'ocr', 'nlp', 'validate']);
  });

  it('refuses unknown, repeated, out-of-order and empty pipelines', () => {
    expect(() => parsePipeline('ocr,translate')).toThrow('unknown step "translate"');
    expect(() => parsePipeline('ocr,ocr')).toThrow('repeated');
    expect(() => parsePipeline('nlp,ocr')).toThrow('order');
    expect(() => parsePipeline(' , ')).toThrow('empty');
  });

  it('lists the steps before a step', () => {
    expect(stepsBefore(['preprocess', 'ocr', 'validate'], 'validate')).toEqual(['preprocess', 'ocr']);
    expect(stepsBefore(['ocr'], 'ocr')).toEqual([]);
  });
});

describe('priorities', () => {
  it('maps higher user priority to a lower (earlier) BullMQ priority', () => {
    expect(toQueuePriority(10)).toBe(1);
    expect(toQueuePriority(5)).toBeLessThan(toQueuePriority(4));
    expect(toQueuePriority(-10, 1e9)).toBeLessThan(2 ** 21); // BullMQ's largest
    // fair share: within a priority, less load first; a higher priority before any load
    expect(toQueuePriority(0, 1)).toBeLessThan(toQueuePriority(0, 2000));
    expect(toQueuePriority(1, 1e6)).toBeLessThan(toQueuePriority(0, 0));
    expect(toQueuePriority(0, 2)).toBe(toQueuePriority(0, 3)); // powers of two
  });

  it('accepts integers from -10 to 10 only', () => {
    expect(prioritySchema.parse('7')).toBe(7);
    expect(prioritySchema.safeParse('11').success).toBe(false);
    expect(prioritySchema.safeParse('1.5').success).toBe(false);
    expect(prioritySchema.safeParse('high').success).toBe(false);
  });
});

describe('schemas', () => {
  it('validates job options and refuses unknown keys (a typo must not pass silently)', () => {
    expect(jobOptionsSchema.parse({ minConfidence: 70, timeouts: { ocr: 5000 } })).toEqual({ minConfidence: 70, timeouts: { ocr: 5000 } });
    expect(jobOptionsSchema.safeParse({ minConfidance: 70 }).success).toBe(false);
    expect(jobOptionsSchema.safeParse({ timeouts: { ocrr: 5000 } }).success).toBe(false);
    expect(jobOptionsSchema.safeParse({ timeouts: { ocr: 5 } }).success).toBe(false);
    expect(jobOptionsSchema.safeParse({ minConfidence: 170 }).success).toBe(false);
    expect(jobOptionsSchema.safeParse({ languages: ['../etc'] }).success).toBe(false);
  });

  it('refuses a step payload without ids', () => {
    const ok = { batchId: 'b', documentId: 'd', step: 'ocr', pipeline: ['ocr'], name: 'a.png', blobKey: 'k', options: {} };
    expect(stepPayloadSchema.parse(ok)).toEqual(ok);
    expect(stepPayloadSchema.safeParse({ ...ok, documentId: '' }).success).toBe(false);
    expect(stepPayloadSchema.safeParse({ ...ok, step: 'print' }).success).toBe(false);
  });
});

describe('errors', () => {
  it('keeps document errors and turns anything else into a retryable internal error', () => {
    const corrupt = new CorruptDocumentError('bad bytes');
    expect(toDocumentError(corrupt)).toBe(corrupt);
    expect(corrupt.permanent).toBe(true);
    expect(corrupt.toInfo()).toEqual({ code: 'corrupt_document', message: 'bad bytes' });
    const other = toDocumentError(new Error('ECONNRESET'));
    expect(other).toBeInstanceOf(RetryableError);
    expect(other.code).toBe('internal');
    expect(other.permanent).toBe(false);
    expect(toDocumentError('thrown string').message).toBe('thrown string');
  });
});

describe('compileJsonSchema', () => {
  it('compiles a schema once however many copies of it come (each document brings its own)', () => {
    const schema = () => ({ type: 'object', required: ['total'] });
    const first = compileJsonSchema(schema());
    expect(compileJsonSchema(schema())).toBe(first);
    expect(first({ total: '1' })).toBe(true);
    expect(first({})).toBe(false);
    expect(() => compileJsonSchema({ type: 'nonsense' })).toThrow(/type/);
  });
});
