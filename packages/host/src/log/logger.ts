import { pino, type Logger } from 'pino';

/** The host's operational log: JSON lines on stderr, apart from the audit log. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'porthole-host' } }, pino.destination({ dest: 2, sync: false }));
}
