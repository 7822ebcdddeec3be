// A concurrency limit with a bounded queue: at most `concurrency` jobs run, at most `queue` wait,
// and the rest are refused at once (the service answers 429) rather than piling up.

export class QueueFullError extends Error {
  constructor() {
    super('the service is busy: too many requests in flight and queued; retry later');
  }
}

export class ConcurrencyLimit {
  private running = 0;
  private waiting: Array<() => void> = [];

  constructor(
    readonly concurrency: number,
    readonly queue: number,
  ) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queue) throw new QueueFullError();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); // the slot passes straight to the next job
      else this.running--;
    }
  }
}
