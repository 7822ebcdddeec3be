// Per-stage timing for results that report where their seconds went.

/** Runs `work`, adding its seconds to `seconds[stage]` (whether it succeeds or not). */
export async function timed<T>(seconds: Record<string, number>, stage: string, work: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await work();
  } finally {
    seconds[stage] = (seconds[stage] ?? 0) + (performance.now() - t0) / 1000;
  }
}
