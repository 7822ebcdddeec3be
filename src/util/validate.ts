// Argument validation with messages a user can act on, shared by the library and the CLI:
//   Expected a positive integer for grid but received "x"

import { MvclassError, UsageError } from './errors.js';

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function invalid(expected: string, name: string, value: unknown): MvclassError {
  return new UsageError(`Expected ${expected} for ${name} but received ${show(value)}`);
}

/** Accepts numbers and decimal strings (CLI input); returns the integer. */
export function positiveInteger(value: unknown, name: string): number {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) {
    throw invalid('a positive integer', name, value);
  }
  return n;
}

export function nonNegativeInteger(value: unknown, name: string): number {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw invalid('a non-negative integer', name, value);
  }
  return n;
}

export function integerInRange(value: unknown, name: string, min: number, max: number): number {
  const n = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
    throw invalid(`an integer from ${min} to ${max}`, name, value);
  }
  return n;
}

export function oneOf<T extends string>(value: unknown, name: string, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw invalid(`one of ${choices.map((c) => `"${c}"`).join(', ')}`, name, value);
  }
  return value as T;
}

export function nonEmptyString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid('a non-empty string', name, value);
  return value;
}

/** "320x240" -> { width: 320, height: 240 }; either side may be 0 only when allowZero. */
export function frameSize(value: unknown, name: string, allowZero = false): { width: number; height: number } {
  const match = typeof value === 'string' ? /^(\d+)x(\d+)$/i.exec(value.trim()) : null;
  const width = match ? Number(match[1]) : NaN;
  const height = match ? Number(match[2]) : NaN;
  const ok = match && (allowZero ? width + height > 0 : width > 0 && height > 0);
  if (!ok) throw invalid(allowZero ? 'a size WxH (0 keeps the aspect ratio)' : 'a size WxH', name, value);
  return { width, height };
}

// Real numbers (CLI input may be a decimal string); numbers are shown as JavaScript prints them,
// so NaN reads "NaN", not "null".

/** invalid(), with a number shown as JavaScript prints it. */
export function rejected(expected: string, name: string, value: unknown): MvclassError {
  return typeof value === 'number' ? new UsageError(`Expected ${expected} for ${name} but received ${value}`) : invalid(expected, name, value);
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

/** `key=value` strings (a repeatable CLI option) as an object; a key given twice keeps the last. */
export function keyValuePairs(values: unknown, name: string): Record<string, string> | undefined {
  if (values === undefined) return undefined;
  const list = Array.isArray(values) ? values : [values];
  const out: Record<string, string> = {};
  for (const item of list) {
    const text = String(item);
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UsageError(`Expected key=value for ${name} but received ${JSON.stringify(text)}`);
    out[text.slice(0, eq)] = text.slice(eq + 1);
  }
  return out;
}

/** `--views` as every command takes it: <temporal>x<crops>, crops 1 or 10 (the paper's test views: 10x10). */
export function testViewsOption(value: unknown, name = 'views'): { temporal: number; crops: 1 | 10 } {
  const m = /^\s*(\d+)\s*x\s*(1|10)\s*$/i.exec(String(value));
  if (!m || !(Number(m[1]) > 0)) throw invalid('<temporal>x<crops> with crops 1 or 10 (e.g. 10x10)', name, value);
  return { temporal: Number(m[1]), crops: Number(m[2]) as 1 | 10 };
}

/** An optional flag: absent is false; anything but a boolean is refused. */
export function checkBoolean(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalid('true or false', name, value);
  return value;
}
