import { pino, type Logger } from 'pino';

/** One structured logger per process; secrets never reach it (request bodies and Authorization are not logged). */
export function createLogger(level: string, name = 'certflow'): Logger {
  return pino({
    name,
    level,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.apiKey', '*.password'], remove: true },
  });
}

export type { Logger };
