/**
 * Runs work for one key at a time, in call order (checkouts of one user, so
 * a double click charges once); different keys run concurrently. Resolves
 * or rejects with each call's own result.
 */
export function oneAtATime<T>(): (key: string, work: () => Promise<T>) => Promise<T> {
  const busy = new Map<string, Promise<unknown>>();
  return async (key, work) => {
    const previous = busy.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(work);
    busy.set(key, run);
    try {
      return await run;
    } finally {
      if (busy.get(key) === run) busy.delete(key);
    }
  };
}
