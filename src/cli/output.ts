// How the CLI talks: results on stdout, warnings and progress on stderr, errors as one line
// naming the file and the problem, and an exit code.

import { MvclassError, UsageError } from '../util/errors.js';

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

/** Exit codes (README, "Exit codes"): 0 done, 1 the work failed (a bad input file, a damaged
 * cache…), 2 a usage error (a bad command, argument or option), 70 a bug of mvclass's own. */
export const EXIT = { failure: 1, usage: 2, internal: 70 } as const;

export function reportFailure(error: unknown): number {
  if (error instanceof UsageError) {
    process.stderr.write(`mvclass: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof MvclassError) {
    process.stderr.write(`mvclass: ${error.message}\n`);
    return EXIT.failure;
  }
  const code = (error as { code?: string } | undefined)?.code;
  if (typeof code === 'string' && code.startsWith('commander.')) return EXIT.usage; // commander printed it
  process.stderr.write(
    `mvclass: internal error (a bug: please report it with this output): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return EXIT.internal;
}

export const fixed = (value: number, digits = 2): string => value.toFixed(digits);
