// mvclass command line: one file per command, each a thin shell over the library.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { packageRoot } from '../util/package.js';
import { COMMANDS } from './commands.js';
import { reportFailure } from './output.js';

const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };

const program = new Command('mvclass')
  .description('compressed-domain video classification: motion vectors and key frames from H.264/MPEG-4 bitstreams')
  .version(pkg.version)
  .exitOverride()
  .showHelpAfterError();

const named = COMMANDS.find(([name]) => name === process.argv[2]);
for (const command of await Promise.all((named ? [named] : COMMANDS).map(([, load]) => load()))) program.addCommand(command.exitOverride());

// Help marks what must be given: commander enforces required options but does not say so.
for (const command of [program, ...program.commands.flatMap((c) => [c, ...c.commands])]) {
  for (const option of command.options) {
    if (option.mandatory && !option.description.endsWith('(required)')) option.description = `${option.description} (required)`;
  }
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const code = (error as { code?: string; exitCode?: number }).code;
  if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') process.exit(0);
  process.exitCode = reportFailure(error);
}
