import { createLogger, LOG_LEVELS, logTo, type LogLevel } from '../log.js';

const fromEnv = process.env.IDV_LOG_LEVEL as LogLevel | undefined;
/** The commands' log (JSON lines on stdout); `serve` makes its own at the configured level. */
export const log = logTo(createLogger(fromEnv && LOG_LEVELS.includes(fromEnv) ? fromEnv : 'info'));
