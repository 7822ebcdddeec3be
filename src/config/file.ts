// Config files: JSON (.json) or YAML (.yaml, .yml), checked key by key before anything runs. Every
// message names the file and the key path, in the words the flags use:
//   config.yaml: Expected a positive integer for train.batch but received "x"
//   config.yaml: unknown key train.bach (did you mean train.batch?)
// A file that cannot be read is a failed input (exit 1); one that says something wrong is a
// usage error (exit 2), as the same value on the command line would be.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { MODELS } from '../nn/model.js';
import { MvclassError, UsageError } from '../util/errors.js';
import { show } from '../util/fields.js';
import { oneOf } from '../util/validate.js';
import { checkSetting, PRESET_NAMES, SECTIONS, type ConfigDocument, type FieldSpec, type SectionName, type SettingValue } from './schema.js';

/** Reads and checks a config file; relative paths in it (train.data, train.weights) become relative to its folder. */
export async function loadConfigFile(file: string): Promise<ConfigDocument> {
  const text = await fs.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new MvclassError(`${file}: cannot read the config file (${error.code ?? error.message})`, file);
  });
  return parseConfig(text, file);
}

/** Parses a config file's text (JSON or YAML by the file's extension) and checks it. */
export function parseConfig(text: string, file: string): ConfigDocument {
  return checkConfig(parseDocumentText(text, file) ?? {}, file, path.dirname(path.resolve(file)));
}

/**
 * A JSON (.json) or YAML (.yaml, .yml) document's value, by the file's extension, unchecked: the
 * one parser of config files and study specs. A document that does not parse is a usage error
 * naming the file (and the line, for YAML).
 */
export function parseDocumentText(text: string, file: string, what = 'a config file'): unknown {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.json') {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new UsageError(`${file}: not valid JSON: ${(error as Error).message}`);
    }
  }
  if (ext === '.yaml' || ext === '.yml') {
    // Loaded when a YAML file is read: the parser costs every command a third of its start-up otherwise.
    const { parseDocument } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    const error = doc.errors[0];
    if (error) {
      const at = error.linePos?.[0];
      throw new UsageError(`${file}: not valid YAML${at ? ` (line ${at.line}, column ${at.col})` : ''}: ${error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
    }
    return doc.toJS({ maxAliasCount: 100 });
  }
  throw new UsageError(`${file}: ${what} is JSON (.json) or YAML (.yaml, .yml)`);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next.push(Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    row = next;
  }
  return row[b.length]!;
}

export function unknownKey(file: string, prefix: string, key: string, known: string[]): UsageError {
  const kebab = key.replace(/[A-Z_]/g, (c) => (c === '_' ? '-' : `-${c.toLowerCase()}`));
  const near = known.includes(kebab) ? kebab : known.map((k) => [k, distance(key.toLowerCase(), k)] as const).filter(([, d]) => d <= 2).sort((a, b) => a[1] - b[1])[0]?.[0];
  return new UsageError(`${file}: unknown key ${prefix}${key}${near ? ` (did you mean ${prefix}${near}?)` : ` (known: ${known.join(', ')})`}`);
}

function checkFields(file: string, dir: string, prefix: string, value: unknown, fields: Record<string, FieldSpec>, models?: Record<string, FieldSpec>): Record<string, unknown> {
  const name = prefix.slice(0, -1);
  if (!isObject(value)) throw new UsageError(`${file}: Expected a mapping of settings for ${name} but received ${show(value)}`);
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(value)) {
    const spec = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (spec) {
      let checked: SettingValue = checkSetting(spec, raw, prefix + key, file);
      if (spec.path && typeof checked === 'string') checked = path.resolve(dir, checked);
      out[key] = checked;
    } else if (models && (MODELS as readonly string[]).includes(key)) {
      out[key] = checkFields(file, dir, `${prefix}${key}.`, raw, models);
    } else {
      throw unknownKey(file, prefix, key, [...Object.keys(fields), ...(models ? MODELS : [])]);
    }
  }
  return out;
}

/** Checks a parsed config document (JSON's or YAML's value); `where` names it in messages. */
export function checkConfig(value: unknown, where: string, dir = process.cwd()): ConfigDocument {
  if (!isObject(value)) throw new UsageError(`${where}: Expected a mapping of sections (${['preset', ...Object.keys(SECTIONS)].join(', ')}) but received ${show(value)}`);
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(value)) {
    if (key === 'preset') {
      out.preset = checkSetting({ check: (v, n) => oneOf(v, n, PRESET_NAMES) }, raw, 'preset', where);
    } else if (Object.hasOwn(SECTIONS, key)) {
      const section = SECTIONS[key as SectionName];
      out[key] = checkFields(where, dir, `${key}.`, raw, section.fields, 'perModel' in section ? section.perModel : undefined);
    } else {
      throw unknownKey(where, '', key, ['preset', ...Object.keys(SECTIONS)]);
    }
  }
  return out as ConfigDocument;
}
