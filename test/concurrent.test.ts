import { describe, expect, it } from 'vitest';
import { mapUnordered } from '../src/ingest/concurrent.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('mapUnordered', () => {
  it('yields every result once, never more than `concurrency` in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const out: number[] = [];
    const work = async (i: number) => {
      most = Math.max(most, ++inFlight);
      await sleep((i * 7) % 5);
      inFlight--;
      return i;
    };
    for await (const v of mapUnordered([...Array(40).keys()], 5, work)) out.push(v);
    expect(out.sort((a, b) => a - b)).toEqual([...Array(40).keys()]);
    expect(most).toBe(5);
  });

  it('stops launching once asked, still yielding what was started', async () => {
    let stop = false;
    const out: number[] = [];
    for await (const v of mapUnordered(
      [...Array(40).keys()],
      4,
      async (i) => i,
      () => stop,
    )) {
      out.push(v);
      if (out.length === 6) stop = true;
    }
    expect(out.length).toBe(6 + 4);
  });

  it('ends with the error of a call that rejects', async () => {
    const run = async () => {
      for await (const v of mapUnordered([1, 2, 3], 2, async (i) => (i === 2 ? Promise.reject(new Error('boom')) : i))) void v;
    };
    await expect(run()).rejects.toThrow('boom');
  });
});
