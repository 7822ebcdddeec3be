// A module-resolution hook (node --import) that appends every package a program imports by
// name to the file named by MVCLASS_RECORD_IMPORTS, one per line: what a plain `import` of the
// library pulls in.
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';

if (import.meta.url.endsWith('?hooks')) {
  // This module again, as the hooks (they run on the loader's own thread).
} else {
  register(`${import.meta.url}?hooks`);
}

export async function resolve(specifier, context, next) {
  if (!/^(node:|file:|data:|\.|\/)/.test(specifier) && process.env.MVCLASS_RECORD_IMPORTS) {
    appendFileSync(process.env.MVCLASS_RECORD_IMPORTS, `${specifier}\n`);
  }
  return next(specifier, context);
}
