// The commands of the mvclass program, by name, in the order its help lists them.

import type { Command } from 'commander';

// Each command's module is loaded when that command runs, or all of them for the program's own
// help, its version and a name it does not know (commander then suggests the nearest). Loading
// all twenty took 0.17 s of every start, which a shell loop over videos pays per file. Each name
// here is also the one its module gives its command (test/cli/options.test.ts checks they agree).
export const COMMANDS: [string, () => Promise<Command>][] = [
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
