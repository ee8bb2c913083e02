/**
 * Runs `fn` over `items` with at most `concurrency` calls in flight and yields results as they
 * finish (not in input order). `fn` must not reject: it returns its failures as values.
 * Stops launching new calls once `shouldStop()` is true, but yields those already started.
 */
export async function* mapUnordered<T, R>(
  items: Iterable<T>,
  concurrency: number,
  fn: (item: T) => Promise<R>,
  shouldStop: () => boolean = () => false,
): AsyncGenerator<R> {
  const source = items[Symbol.iterator]();
  const running = new Map<number, Promise<{ key: number; value: R }>>();
  let nextKey = 0;
  const launch = (): boolean => {
    if (shouldStop()) return false;
    const n = source.next();
    if (n.done) return false;
    const key = nextKey++;
    running.set(key, fn(n.value).then((value) => ({ key, value })));
    return true;
  };
  while (running.size < concurrency && launch());
  while (running.size > 0) {
    const { key, value } = await Promise.race(running.values());
    running.delete(key);
    launch();
    yield value;
  }
}
