// Bounded parallelism: the one loop every workflow uses to run a list `limit` at a time.

/**
 * Calls `work` on every item, at most `limit` at once, each next item taken by whichever call
 * finishes first. An exception from `work` rejects the whole (the calls already running finish
 * on their own); callers that must go on past a failing item catch inside `work`.
 */
export async function forEachLimit<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
