import { SpillwayError, type SpillwayErrorOptions } from './base.js';

/** The configuration is invalid. The message names the field and the fix. */
export class ConfigError extends SpillwayError {
  static readonly code = 'spillway:config';
  /** Dotted path of the offending field, e.g. `secondaries.0.region`. */
  readonly field?: string;
  constructor(message: string, options: SpillwayErrorOptions & { field?: string } = {}) {
    super(ConfigError.code, message, false, options);
    if (options.field !== undefined) this.field = options.field;
  }
}
