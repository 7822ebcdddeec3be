// mvclass command line: one file per command, each a thin shell over the library.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { packageRoot } from '../util/package.js';
import { reportFailure } from './output.js';

// Each command's module is loaded when that command runs, or all of them for the program's own
// help, its version and a name it does not know (commander then suggests the nearest). Loading
// all twenty took 0.17 s of every start, which a shell loop over videos pays per file.
const COMMANDS: [string, () => Promise<Command>][] = [
  ['demo', async () => (await import('./demo.js')).demoCommand()],
  ['extract', async () => (await import('./extract.js')).extractCommand()],
  ['probe', async () => (await import('./probe.js')).probeCommand()],
  ['encode', async () => (await import('./encode.js')).encodeCommand()],
  ['crop', async () => (await import('./crop.js')).cropCommand()],
  ['rates', async () => (await import('./rates.js')).ratesCommand()],
  ['synth', async () => (await import('./synth.js')).synthCommand()],
  ['prepare', async () => (await import('./prepare.js')).prepareCommand()],
  ['train', async () => (await import('./train.js')).trainCommand()],
  ['eval', async () => (await import('./evaluate.js')).evalCommand()],
  ['fuse', async () => (await import('./evaluate.js')).fuseCommand()],
  ['classify', async () => (await import('./classify.js')).classifyCommand()],
  ['mcnn', async () => (await import('./mcnn.js')).mcnnCommand()],
  ['sweep', async () => (await import('./sweep.js')).sweepCommand()],
  ['study', async () => (await import('./study.js')).studyCommand()],
  ['plot', async () => (await import('./plot.js')).plotCommand()],
  ['serve', async () => (await import('./serve.js')).serveCommand()],
  ['edge', async () => (await import('./serve.js')).edgeCommand()],
  ['worker', async () => (await import('./worker.js')).workerCommand()],
  ['queue', async () => (await import('./queue.js')).queueCommand()],
];

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
