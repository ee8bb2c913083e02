import { describe, expect, it } from 'vitest';
import { evenSample, hubnessBias, type QueryBank } from '../src/models/query-bank.js';

/** Cosines of bank rows × items (row-major bank × items), as JointModel.score gives them. */
function cosines(dim: number) {
  return (bank: Float32Array, items: Float32Array) => {
    const nb = bank.length / dim;
    const ni = items.length / dim;
    const out = new Float32Array(nb * ni);
    for (let b = 0; b < nb; b++) for (let i = 0; i < ni; i++) for (let d = 0; d < dim; d++) out[b * ni + i]! += bank[b * dim + d]! * items[i * dim + d]!;
    return out;
  };
}

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

describe('querybank normalisation', () => {
  // Bank queries spread around the first axis; item 0 sits in their middle (a hub, close to all of
  // them), item 1 matches one bank query exactly but is far from the rest.
  const bankRows = [unit([1, 0.3, 0]), unit([1, -0.3, 0]), unit([1, 0, 0.3]), unit([1, 0, -0.3]), unit([0, 1, 1])];
  const bank: QueryBank = { vectors: Float32Array.from(bankRows.flat()), rows: bankRows.length, beta: 10 };
  const items = Float32Array.from([...unit([1, 0, 0]), ...unit([0, 1, 1])]);

  it('lowers a hub (an item close to every bank query) more than an item close to one', () => {
    const bias = hubnessBias(bank, items, 2, 3, cosines(3));
    expect(bias[0]!).toBeLessThan(bias[1]!);
    // A query halfway between the two (equal cosines) now prefers the non-hub.
    const q = unit([0, 1, 2].map((d) => items[d]! + items[3 + d]!));
    const cos = [0, 1].map((i) => q.reduce((s, x, d) => s + x * items[i * 3 + d]!, 0));
    expect(cos[0]!).toBeCloseTo(cos[1]!, 6);
    expect(cos[0]! + bias[0]!).toBeLessThan(cos[1]! + bias[1]!);
  });

  it('tends to minus the best bank cosine as β grows, and is zero without a bank or with β = 0', () => {
    const sharp = hubnessBias({ ...bank, beta: 1e4 }, items, 2, 3, cosines(3));
    const best = Math.max(...bankRows.map((b) => b.reduce((s, x, d) => s + x * items[d]!, 0)));
    expect(sharp[0]!).toBeCloseTo(-best, 3);
    expect(Array.from(hubnessBias(null, items, 2, 3, cosines(3)))).toEqual([0, 0]);
    expect(Array.from(hubnessBias({ ...bank, beta: 0 }, items, 2, 3, cosines(3)))).toEqual([0, 0]);
  });

  it('gives the same bias whether the gallery is scored in one chunk or many', () => {
    const n = 5000; // more than one chunk of 2,048
    const g = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) g.set(unit([Math.cos(i), Math.sin(i), 0.5]), i * 3);
    const all = hubnessBias(bank, g, n, 3, cosines(3));
    const last = hubnessBias(bank, g.subarray((n - 1) * 3), 1, 3, cosines(3));
    expect(all[n - 1]).toBeCloseTo(last[0]!, 6);
  });

  it('samples training rows evenly and deterministically', () => {
    expect(evenSample(10, 4)).toEqual([0, 2, 5, 7]);
    expect(evenSample(3, 5)).toEqual([0, 1, 2]);
  });
});
