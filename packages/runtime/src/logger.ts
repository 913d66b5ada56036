import winston from 'winston';

export type { Logger } from 'winston';

/**
 * JSON logs, one object per line. Scope with `logger.child({ batchId,
 * documentId, taskId })`. Never log document content, text or secrets: ids,
 * sizes, codes and timings only.
 */
export function createLogger(service: string, level = 'info'): winston.Logger {
  return winston.createLogger({
    level,
    defaultMeta: { service },
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: false }), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn'] })],
  });
}
