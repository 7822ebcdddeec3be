// How the CLI talks: results on stdout, warnings and progress on stderr, errors as one line
// naming the file and the problem, and an exit code.

import { MvclassError } from '../util/errors.js';

export function warn(message: string): void {
  process.stderr.write(`mvclass: warning: ${message}\n`);
}

/**
 * Warns about each of a list of problems up to `examples`, then one line for the rest: a dataset
 * of 300k rows with its videos elsewhere must not print 300k lines.
 */
export function warnSome(messages: readonly string[], rest: (count: number) => string, examples = 10): void {
  for (const m of messages.slice(0, examples)) warn(m);
  if (messages.length > examples) warn(`… and ${rest(messages.length - examples)}`);
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function reportFailure(error: unknown): number {
  if (error instanceof MvclassError) {
    process.stderr.write(`mvclass: ${error.message}\n`);
    return 1;
  }
  const code = (error as { code?: string } | undefined)?.code;
  if (typeof code === 'string' && code.startsWith('commander.')) return 1; // commander printed it
  process.stderr.write(`mvclass: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 2;
}

export const fixed = (value: number, digits = 2): string => value.toFixed(digits);
