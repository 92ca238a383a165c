import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs for machines. Request bodies, tokens and emails never reach a log
 * line: the request logger records only method, route pattern, status and
 * timing, and these paths are redacted in case an object slips through.
 */
export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'calbridge' },
      redact: {
        paths: [
          'authorization',
          '*.authorization',
          'headers',
          '*.headers',
          'body',
          '*.body',
          'token',
          '*.token',
          'secret',
          '*.secret',
          'email',
          '*.email',
          'password',
          '*.password',
          'accessToken',
          'refreshToken',
          '*.accessToken',
          '*.refreshToken',
        ],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    (options.destination as pino.DestinationStream | undefined) ?? pino.destination({ sync: false }),
  );
}
