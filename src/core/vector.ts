/** Vector arithmetic shared by every layer. */

/** A unit-length copy (a zero vector stays zero). */
export function normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
  return v.map((x) => x * inv);
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>, bOffset = 0, length = a.length): number {
  let s = 0;
  for (let i = 0; i < length; i++) s += a[i]! * b[bOffset + i]!;
  return s;
}
