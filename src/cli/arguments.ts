/** Parsers of numeric command-line values, shared by the subcommands: a bad value is a usage error that names what is expected. */
import { InvalidArgumentError } from 'commander';

/** A whole number above 0. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

/** A whole number, 0 or more. */
export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number, 0 or more');
  return n;
}
