// Errors that reach users: every one names the file and the problem.

export class MvclassError extends Error {
  /** The file the problem is about, when there is one. */
  readonly path: string | undefined;
  constructor(message: string, path?: string) {
    super(message);
    this.name = 'MvclassError';
    this.path = path;
  }
}

/** A bad argument or option (a usage error): the CLI exits 2 on it, 1 on other MvclassErrors.
 * Its name stays "MvclassError": to a library caller it is one, only the CLI tells them apart. */
export class UsageError extends MvclassError {}

/**
 * Runs a native call and re-throws its failure as an MvclassError whose stack starts at the
 * caller (an async rejection from a worker thread has no useful JavaScript stack of its own).
 */
export async function withCallerStack<T>(path: string | undefined, work: () => Promise<T>): Promise<T> {
  const site = new Error();
  try {
    return await work();
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    const error = new MvclassError(message, path);
    error.stack = `${error.name}: ${message}\n${(site.stack ?? '').split('\n').slice(1).join('\n')}`;
    throw error;
  }
}
