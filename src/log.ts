import { pino, type DestinationStream, type Level, type Logger } from 'pino';

/** One log event: a level, a message, and fields (codes, counts, ids; never personal data). */
export type LogEvent = { level?: Level; msg: string } & Record<string, unknown>;
export type Log = (event: LogEvent | Record<string, unknown>) => void;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Fields no line may show, whoever logs them: the API key a request carried, and anything
 * about a citizen a caller might pass by mistake (a claim, a record, a body). Callers
 * pass codes, counts and ids; this is the net under them.
 */
const PERSONAL = ['idNumber', 'fullName', 'dateOfBirth', 'legacyIdNumber', 'placeOfOrigin', 'placeOfResidence', 'claim', 'record', 'body', 'query'];
export const REDACTED_PATHS = ['authorization', 'headers.authorization', 'req.headers.authorization', ...PERSONAL, ...PERSONAL.map((f) => `*.${f}`)];

/** The service's logger: JSON lines on stdout (or `destination`), ISO times, level names. */
export function createLogger(level: LogLevel = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination ?? pino.destination({ fd: 1, sync: true }),
  );
}

/** The log function the service passes around (threads send events to the main thread's), over a pino logger. */
export function logTo(logger: Logger): Log {
  return (event) => {
    const { level = 'info', msg, ...fields } = event as LogEvent;
    logger[level in logger.levels.values ? (level as Level) : 'info'](fields, msg);
  };
}

/** Whether a line at `level` is written under the configured level. */
export function logs(configured: LogLevel, level: Level): boolean {
  return configured !== 'silent' && pino.levels.values[level] >= pino.levels.values[configured];
}
