import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/datasets/index.js';

describe('parseCsv', () => {
  it('handles quotes, doubled quotes, commas and line breaks inside quotes, CRLF and blank lines', () => {
    const text = 'a,b\r\n"x, y","say ""hi"""\r\n\r\n"two\nlines",z\nlast,\n';
    expect(parseCsv(text, 'f.csv')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
      { line: 4, fields: ['two\nlines', 'z'] },
      { line: 6, fields: ['last', ''] },
    ]);
    expect(parseCsv('no,newline', 'f.csv')).toEqual([{ line: 1, fields: ['no', 'newline'] }]);
    expect(parseCsv('in"side,x', 'f.csv')).toEqual([{ line: 1, fields: ['in"side', 'x'] }]);
  });

  it('names the line where an unclosed quote starts', () => {
    expect(() => parseCsv('a,b\n"open,x\ny\n', 'f.csv')).toThrow('f.csv:2: a quoted field is never closed');
  });
});
