/**
 * spillway logs through pino, but accepts any logger with pino's level
 * methods: pino itself, or a console-like object (`console`, winston, bunyan
 * in its simple form) whose `info`/`warn`/`error`/`debug` take a message.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

/** Anything with the level methods spillway calls. */
export interface LoggerLike {
  error(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  info(...args: unknown[]): void;
  debug?(...args: unknown[]): void;
  trace?(...args: unknown[]): void;
  fatal?(...args: unknown[]): void;
}

const LABELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** True for a pino logger (it has `child` and a `level` string). */
function isPino(value: LoggerLike): value is LoggerLike & Logger {
  const v = value as Partial<Logger>;
  return typeof v.child === 'function' && typeof v.level === 'string' && typeof v.isLevelEnabled === 'function';
}

/**
 * A pino logger that writes through `target`: pino itself is returned as it
 * is; any other logger gets each line as `(message, fields)` on the method of
 * its level (falling back to `info`, `warn`, `error` when it lacks one).
 */
export function toPinoLogger(target: LoggerLike, level: LevelWithSilent = 'info'): Logger {
  if (isPino(target)) return target;
  const stream = {
    write(line: string): void {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        target.info(line.trimEnd());
        return;
      }
      const { level: n, msg, time: _time, pid: _pid, hostname: _host, name: _name, ...fields } = record;
      const label = LABELS[n as number] ?? 'info';
      const method = target[label] ?? (label === 'fatal' ? target.error : label === 'trace' || label === 'debug' ? target.info : target.info);
      if (Object.keys(fields).length > 0) method.call(target, String(msg ?? ''), fields);
      else method.call(target, String(msg ?? ''));
    },
  };
  return pino({ name: 'spillway', level, serializers: { err: pino.stdSerializers.err } }, stream);
}
