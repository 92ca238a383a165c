import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * JSON logs for machines; readable lines for a person when `pretty` (main.ts asks for it when
 * standard output is a terminal, as under `npm start`). Request bodies, tokens and emails never reach a log
 * line: the request logger records only method, route pattern, status and
 * timing, and these paths are redacted in case an object slips through.
 */
export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream; pretty?: boolean } = {}): Logger {
  const destination = options.pretty
    ? pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', destination: 2 })
    : ((options.destination as pino.DestinationStream | undefined) ?? pino.destination({ sync: false }));
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
    destination,
  );
}
