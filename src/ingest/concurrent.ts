/**
 * Runs `fn` over `items` with at most `concurrency` calls in flight and yields results as they
 * finish (not in input order). `fn` should return its failures as values; a rejection ends the
 * iteration with that error. Stops launching new calls once `shouldStop()` is true, but yields
 * those already started.
 */
export async function* mapUnordered<T, R>(
  items: Iterable<T>,
  concurrency: number,
  fn: (item: T) => Promise<R>,
  shouldStop: () => boolean = () => false,
): AsyncGenerator<R> {
  const source = items[Symbol.iterator]();
  // Finished results wait here for the consumer: a queue, not Promise.race over everything in
  // flight, which costs each result a handler on every pending promise.
  const finished: Array<{ ok: true; value: R } | { ok: false; error: unknown }> = [];
  let pending = 0; // launched and not yet taken by the consumer
  let wake: (() => void) | null = null;
  const settle = (r: (typeof finished)[number]) => {
    finished.push(r);
    wake?.();
    wake = null;
  };
  const launch = (): boolean => {
    if (shouldStop()) return false;
    const n = source.next();
    if (n.done) return false;
    pending++;
    fn(n.value).then(
      (value) => settle({ ok: true, value }),
      (error: unknown) => settle({ ok: false, error }),
    );
    return true;
  };
  while (pending < concurrency && launch());
  while (pending > 0) {
    if (finished.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    const r = finished.shift()!;
    pending--;
    if (!r.ok) throw r.error;
    launch();
    yield r.value;
  }
}
