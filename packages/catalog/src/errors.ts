import { CANCELLED_MESSAGE, type DocumentErrorCode, type DocumentErrorInfo } from './models';

/**
 * An error that belongs to one document. Permanent errors (bad input) are not
 * retried; the others are retried with backoff and become `internal` when
 * retries run out.
 */
export class DocumentError extends Error {
  constructor(
    readonly code: DocumentErrorCode,
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = new.target.name;
  }

  toInfo(): DocumentErrorInfo {
    return { code: this.code, message: this.message };
  }
}

export class UnsupportedTypeError extends DocumentError {
  constructor(message: string) {
    super('unsupported_type', message, true);
  }
}

export class CorruptDocumentError extends DocumentError {
  constructor(message: string) {
    super('corrupt_document', message, true);
  }
}

export class EncryptedDocumentError extends DocumentError {
  constructor(message: string) {
    super('encrypted_document', message, true);
  }
}

export class TooLargeError extends DocumentError {
  constructor(message: string) {
    super('too_large', message, true);
  }
}

export class TooManyPagesError extends DocumentError {
  constructor(message: string) {
    super('too_many_pages', message, true);
  }
}

export class EmptyDocumentError extends DocumentError {
  constructor(message = 'the document is empty (0 bytes)') {
    super('empty_document', message, true);
  }
}

export class StepTimeoutError extends DocumentError {
  constructor(message: string) {
    super('timeout', message, true);
  }
}

export class CancelledError extends DocumentError {
  constructor(message = CANCELLED_MESSAGE) {
    super('cancelled', message, true);
  }
}

/** A failure that may pass on its own (a lost connection, a busy store): retried. */
export class RetryableError extends DocumentError {
  constructor(message: string) {
    super('internal', message, false);
  }
}

/** Coerces anything thrown into a DocumentError, once, at the catch. */
export function toDocumentError(thrown: unknown): DocumentError {
  if (thrown instanceof DocumentError) return thrown;
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return new RetryableError(message);
}

export class MissingDefinitionError extends DocumentError {
  constructor(message: string) {
    super('missing_definition', message, true);
  }
}
