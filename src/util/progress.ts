// Progress on stderr, only when a person is watching (stderr is a terminal).

import cliProgress from 'cli-progress';

export interface Progress {
  /** `note` is shown after the counts (e.g. the current loss). */
  update(done: number, note?: string): void;
  stop(): void;
}

export function progressBar(label: string, total: number, unit = 'frames'): Progress {
  if (!process.stderr.isTTY || total <= 0) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate}/s | ETA {eta_formatted}{note}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  bar.start(total, 0, { rate: '0', note: '' });
  return {
    update(done: number, note?: string) {
      const seconds = (Date.now() - started) / 1000;
      const rate = seconds > 0 ? done / seconds : 0;
      bar.update(Math.min(done, total), { rate: rate >= 10 ? rate.toFixed(0) : rate.toFixed(2), note: note ? ` | ${note}` : '' });
    },
    stop() {
      bar.stop();
    },
  };
}
