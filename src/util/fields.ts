// Reading a JSON document that may come from anyone (a cache's manifest, a run's run.json): each
// field checked for its type and bounds, with messages that say which file, which entry and which
// field, in the words of validate.ts:
//   <file>: video "v_Walk_g01" (index 3): Expected an integer from 0 to 100 for label but received 999

import { MvclassError } from './errors.js';

/** A value for a message: short, and safe for any JSON (never walks a deep structure). */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value !== null && typeof value === 'object') return 'an object';
  return String(value);
}

/** Reads the fields of one JSON object, each checked, with messages that say where. */
export class Fields {
  constructor(
    private readonly file: string,
    /** "<file>" or "<file>: video "id" (index 3)". */
    readonly where: string,
    private readonly value: Record<string, unknown>,
    /** "motion." for a nested object's fields. */
    private readonly prefix = '',
  ) {}

  static of(file: string, where: string, value: unknown, name: string, prefix = ''): Fields {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new MvclassError(`${where}: Expected an object for ${name} but received ${show(value)}`, file);
    }
    return new Fields(file, where, value as Record<string, unknown>, prefix);
  }

  fail(problem: string): never {
    throw new MvclassError(`${this.where}: ${problem}`, this.file);
  }

  name(key: string): string {
    return this.prefix + key;
  }

  raw(key: string): unknown {
    // Own properties only: a key such as "constructor" must not reach Object.prototype.
    return Object.hasOwn(this.value, key) ? this.value[key] : undefined;
  }

  expected(what: string, key: string, value: unknown = this.raw(key)): never {
    this.fail(`Expected ${what} for ${this.name(key)} but received ${show(value)}`);
  }

  integer(key: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.raw(key);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      this.expected(max === Number.MAX_SAFE_INTEGER ? (min === 0 ? 'a non-negative integer' : `an integer of at least ${min}`) : `an integer from ${min} to ${max}`, key);
    }
    return v;
  }

  /** A finite number >= 0 (a rate, a duration). */
  amount(key: string): number {
    const v = this.raw(key);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) this.expected('a non-negative number', key);
    return v;
  }

  /** A finite number in (0, max]. */
  positive(key: string, max: number): number {
    const v = this.raw(key);
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max) this.expected(`a positive number up to ${max}`, key);
    return v;
  }

  string(key: string, pattern?: RegExp, what = 'a string'): string {
    const v = this.raw(key);
    if (typeof v !== 'string' || (pattern && !pattern.test(v))) this.expected(what, key);
    return v;
  }

  boolean(key: string): boolean {
    const v = this.raw(key);
    if (typeof v !== 'boolean') this.expected('true or false', key);
    return v;
  }

  oneOf<T extends string>(key: string, choices: readonly T[]): T {
    const v = this.raw(key);
    if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) this.expected(`one of ${choices.map((c) => `"${c}"`).join(', ')}`, key);
    return v as T;
  }

  /** null, or what `read` makes of the field. */
  nullable<T>(key: string, read: (key: string) => T): T | null {
    return this.raw(key) === null ? null : read(key);
  }

  object(key: string): Fields {
    const v = this.raw(key);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.expected('an object', key);
    return new Fields(this.file, this.where, v as Record<string, unknown>, `${this.name(key)}.`);
  }

  array(key: string): unknown[] {
    const v = this.raw(key);
    if (!Array.isArray(v)) this.expected('an array', key);
    return v;
  }

  /** Names (class names): at least `min` non-empty strings, none twice. */
  names(key: string, min: number): string[] {
    const list = this.array(key);
    for (const [i, v] of list.entries()) if (typeof v !== 'string' || v.length === 0) this.expected('a non-empty string', `${key}[${i}]`, v);
    if (list.length < min) this.expected(`at least ${min} names`, key);
    if (new Set(list).size !== list.length) this.fail(`${this.name(key)} names one twice`);
    return list as string[];
  }

  /** An array of non-negative integers (bits per frame). */
  counts(key: string): number[] {
    const list = this.array(key);
    for (const [i, v] of list.entries()) {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) this.expected('a non-negative integer', `${key}[${i}]`, v);
    }
    return list as number[];
  }
}
