// mvclass command line: one file per command, each a thin shell over the library.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { packageRoot } from '../util/package.js';
import { classifyCommand } from './classify.js';
import { cropCommand } from './crop.js';
import { demoCommand } from './demo.js';
import { encodeCommand } from './encode.js';
import { evalCommand, fuseCommand } from './evaluate.js';
import { extractCommand } from './extract.js';
import { mcnnCommand } from './mcnn.js';
import { plotCommand } from './plot.js';
import { reportFailure } from './output.js';
import { prepareCommand } from './prepare.js';
import { queueCommand } from './queue.js';
import { probeCommand } from './probe.js';
import { ratesCommand } from './rates.js';
import { edgeCommand, serveCommand } from './serve.js';
import { studyCommand } from './study.js';
import { sweepCommand } from './sweep.js';
import { synthCommand } from './synth.js';
import { trainCommand } from './train.js';
import { workerCommand } from './worker.js';

const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };

const program = new Command('mvclass')
  .description('compressed-domain video classification: motion vectors and key frames from H.264/MPEG-4 bitstreams')
  .version(pkg.version)
  .exitOverride()
  .showHelpAfterError();

for (const command of [demoCommand(), extractCommand(), probeCommand(), encodeCommand(), cropCommand(), ratesCommand(), synthCommand(), prepareCommand(), trainCommand(), evalCommand(), fuseCommand(), classifyCommand(), mcnnCommand(), sweepCommand(), studyCommand(), plotCommand(), serveCommand(), edgeCommand(), workerCommand(), queueCommand()]) program.addCommand(command.exitOverride());

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
