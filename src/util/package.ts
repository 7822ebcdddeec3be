// Where the package's own files are: its root, and the compiled form of a module that must run as
// JavaScript (a worker thread or process), also when the caller runs from the TypeScript sources
// (the tests), where the build in dist/ stands in and must be as new as the sources it runs.

import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MvclassError } from './errors.js';

/** The package root: the nearest folder above this module with a package.json. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/**
 * The path of `module` (relative to src/, as `serve/worker.js`), compiled: beside the caller when
 * the caller (`callerUrl`, its import.meta.url) is compiled itself, else in dist/src/, which must
 * be newer than each of `sources` (relative to the package root) that exists. `what` names it in
 * the errors.
 */
export function compiledModule(callerUrl: string, module: string, sources: readonly string[], what: string): string {
  const caller = fileURLToPath(callerUrl);
  const root = packageRoot();
  if (caller.endsWith('.js')) {
    // Compiled: the caller lies under <build>/src/; so does the module.
    let src = path.dirname(caller);
    while (path.basename(src) !== 'src' && path.dirname(src) !== src) src = path.dirname(src);
    return path.join(src, module);
  }
  const compiled = path.join(root, 'dist', 'src', module);
  if (!existsSync(compiled)) throw new MvclassError(`${compiled}: ${what} is not built: run npm run build:ts`, compiled);
  const built = statSync(compiled).mtimeMs;
  for (const source of sources) {
    const file = path.join(root, source);
    if (existsSync(file) && statSync(file).mtimeMs > built) {
      throw new MvclassError(`${compiled} is older than ${source}: ${what} runs from dist/; run npm run build:ts`, compiled);
    }
  }
  return compiled;
}
