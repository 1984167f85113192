import { pino, type Logger } from 'pino';

/** JSON lines on stdout: under systemd they go to the journal, whose limits spare the SD card. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'kindling' }, timestamp: pino.stdTimeFunctions.isoTime });
}
