// Real-number arguments for the MCNN model, in the wording of util/validate.ts:
//   Expected a positive number for alpha but received "x"
// Each accepts a number or a decimal string (CLI input) and returns the number.

import { MvclassError } from '../../util/errors.js';
import { invalid } from '../../util/validate.js';

/** invalid() of util/validate.ts, but numbers printed as JavaScript does, so NaN is not "null". */
export function rejected(expected: string, name: string, value: unknown): MvclassError {
  return typeof value === 'number' ? new MvclassError(`Expected ${expected} for ${name} but received ${value}`) : invalid(expected, name, value);
}

const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  return typeof value === 'string' && DECIMAL.test(value) ? Number(value) : NaN;
}

export function finiteNumber(value: unknown, name: string): number {
  const n = toNumber(value);
  if (!Number.isFinite(n)) throw rejected('a finite number', name, value);
  return n;
}

export function positiveNumber(value: unknown, name: string): number {
  const n = toNumber(value);
  if (!Number.isFinite(n) || n <= 0) throw rejected('a positive number', name, value);
  return n;
}

export function nonNegativeNumber(value: unknown, name: string): number {
  const n = toNumber(value);
  if (!Number.isFinite(n) || n < 0) throw rejected('a non-negative number', name, value);
  return n;
}

/** An accuracy or probability: a number from 0 to 1. */
export function fraction(value: unknown, name: string): number {
  const n = toNumber(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw rejected('a fraction from 0 to 1', name, value);
  return n;
}
