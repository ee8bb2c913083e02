/** A sharded store's lookout: when it looks at the shards for other nodes' commits, in line and by itself. */
import { describe, expect, it } from 'vitest';
import { Lookout } from '../src/store/sharded/lookout.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Lookout', () => {
  it('looks in line after a pause, by itself every interval while asked, and not once left alone or closed', async () => {
    let looks = 0;
    const lookout = new Lookout(
      async () => {
        looks++;
        await sleep(2);
      },
      50,
      400,
    );
    await lookout.asked();
    expect(looks).toBe(1); // the first ask: in line
    await sleep(330);
    expect(looks).toBeGreaterThanOrEqual(3); // every 50 ms by itself (timers run late on a busy machine)
    expect(looks).toBeLessThanOrEqual(8);
    const before = looks;
    await lookout.asked();
    expect(looks).toBe(before); // a recent look: none in line
    await sleep(800); // not asked for longer than 400 ms: it stops
    const stopped = looks;
    await sleep(300);
    expect(looks).toBe(stopped);
    await lookout.asked();
    expect(looks).toBe(stopped + 1); // asked again after the pause: in line
    await lookout.close();
    const closed = looks;
    await sleep(200);
    expect(looks).toBe(closed);
    await lookout.asked();
    expect(looks).toBe(closed); // closed: never again
  });

  it('with no interval, looks in line at every ask and never by itself', async () => {
    let looks = 0;
    const lookout = new Lookout(async () => void looks++, 0);
    await lookout.asked();
    await lookout.asked();
    expect(looks).toBe(2);
    await sleep(100);
    expect(looks).toBe(2);
    await lookout.close();
  });
});
