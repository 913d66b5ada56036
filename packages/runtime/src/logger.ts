import { Writable } from 'node:stream';
import winston from 'winston';

export type { Logger } from 'winston';
export type LogFormat = 'json' | 'pretty';

const LEVEL_COLORS: Record<string, string> = { error: '\x1b[31m', warn: '\x1b[33m' };

/** One line a person reads in a terminal: time, level, message, then the fields as key=value. */
const pretty = winston.format.printf((entry) => {
  const { level, message, timestamp, service: _service, ...fields } = entry;
  const time = String(timestamp).slice(11, 23);
  const tag = `${LEVEL_COLORS[level] ?? ''}${level.toUpperCase().padEnd(5)}${LEVEL_COLORS[level] ? '\x1b[0m' : ''}`;
  const rest = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${time} ${tag} ${String(message)}${rest ? `  ${rest}` : ''}`;
});

/**
 * JSON logs, one object per line, or `pretty` lines for a terminal. Scope with
 * `logger.child({ batchId, documentId, taskId })`. Never log document content,
 * text or secrets: ids, sizes, codes and timings only.
 */
export function createLogger(service: string, level = 'info', format: LogFormat = 'json', write?: (line: string) => void): winston.Logger {
  // `write`: each line to a caller that prints it its own way (`docproc up` prefixes the app's name).
  const transport = write
    ? new winston.transports.Stream({
        stream: new Writable({
          write(chunk: Buffer, _encoding, done) {
            write(chunk.toString().trimEnd());
            done();
          },
        }),
      })
    : new winston.transports.Console({ stderrLevels: ['error', 'warn'] });
  return winston.createLogger({
    level,
    defaultMeta: { service },
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.errors({ stack: false }),
      format === 'pretty' ? pretty : winston.format.json(),
    ),
    transports: [transport],
  });
}

/**
 * tesseract.js parameters that send Tesseract's own diagnostics ("Invalid resolution
 * 0 dpi", "Estimating resolution as ...") nowhere instead of raw lines on stderr.
 */
export const TESSERACT_QUIET = { debug_file: '/dev/null' } as const;
