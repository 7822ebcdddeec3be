// Plain tables: Markdown for people, CSV for spreadsheets.

export type Cell = string | number | null | undefined;

export function formatCell(value: Cell, digits = 1): string {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(digits);
  return value;
}

export function markdownTable(header: string[], rows: Cell[][], digits = 1): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of rows) lines.push(`| ${row.map((c) => formatCell(c, digits)).join(' | ')} |`);
  return lines.join('\n') + '\n';
}

function csvCell(value: Cell): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvTable(header: string[], rows: Cell[][]): string {
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
}
