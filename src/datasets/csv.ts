// A small RFC 4180 reader: quoted fields may hold commas, doubled quotes and line breaks
// (Kinetics labels such as "passing American football (not in game)" come quoted).

import { lineError } from './files.js';

export interface CsvRecord {
  /** The line the record starts on, 1-based. */
  line: number;
  fields: string[];
}

/** Parses CSV text; blank lines are skipped. `file` is only used in error messages. */
export function parseCsv(text: string, file: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  const endRecord = (): void => {
    fields.push(field);
    if (fields.length > 1 || fields[0]!.trim() !== '') records.push({ line: start, fields });
    fields = [];
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field.trim() === '') {
      // Only a quote that opens a field quotes it; one inside a bare field is kept as a character.
      field = '';
      quoted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n') {
      endRecord();
      start = ++line;
    } else if (c !== '\r') {
      field += c;
    }
  }
  if (quoted) throw lineError(file, start, 'a quoted field is never closed');
  if (field !== '' || fields.length > 0) endRecord();
  return records;
}

/** Maps lower-cased, trimmed header names to their column index. */
export function headerIndex(header: CsvRecord): Map<string, number> {
  const index = new Map<string, number>();
  header.fields.forEach((name, i) => {
    const key = name.trim().toLowerCase();
    if (!index.has(key)) index.set(key, i);
  });
  return index;
}
