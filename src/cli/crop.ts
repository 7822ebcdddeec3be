import { Command } from 'commander';
import { crop } from '../codec/crop.js';
import { fixed, printJson, warn } from './output.js';

export function cropCommand(): Command {
  return new Command('crop')
    .description('strip the P-frame texture from an H.264 stream: IDR kept bit for bit, P frames keep only modes and vectors')
    .argument('<input>', 'H.264 with I/IDR and P frames (re-encode B-frame streams with mvclass encode --bframes 0)')
    .requiredOption('-o, --out <file>', 'output: .264/.h264 (Annex-B) or .mp4')
    .option('--json', 'print the result as JSON')
    .action(async (input: string, opts: { out: string; json?: boolean }) => {
      const r = await crop(input, opts.out, { onWarning: warn });
      if (opts.json) return printJson(r);
      const kbps = (bytes: number) => fixed((bytes * 8) / r.duration / 1000, 1);
      const mbs = r.skippedMbs + r.interMbs + r.intraMbs;
      process.stdout.write(
        `${r.output}: ${r.frames} frames (${r.copiedFrames} intra kept, ${r.rewrittenFrames} P rewritten); ` +
          `macroblocks skip ${fixed((100 * r.skippedMbs) / Math.max(mbs, 1), 1)}%, inter ${fixed((100 * r.interMbs) / Math.max(mbs, 1), 1)}%, intra ${fixed((100 * r.intraMbs) / Math.max(mbs, 1), 1)}%\n` +
          `${kbps(r.inputVideoBytes)} kbps -> ${kbps(r.outputVideoBytes)} kbps (${fixed((100 * r.outputVideoBytes) / r.inputVideoBytes, 1)}% of the input)\n`,
      );
    });
}
