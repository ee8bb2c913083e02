/** IEEE 754 half-precision bits (as Arrow hands them over) to float32 values. */
export function float16ToFloat32(bits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0)
      out[i] = sign * frac * 2 ** -24; // subnormal
    else if (exp === 31) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 values to IEEE 754 half-precision bits, rounding to nearest even. */
export function float32ToFloat16(values: ArrayLike<number>, out = new Uint16Array(values.length), offset = 0): Uint16Array {
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i]!;
    const x = u32[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    let h: number;
    if (exp === 0xff) h = sign | 0x7c00 | (mant ? 0x200 : 0);
    else {
      const e = exp - 127 + 15;
      if (e >= 0x1f) h = sign | 0x7c00;
      else if (e <= 0) {
        if (e < -10) h = sign;
        else {
          mant |= 0x800000;
          const shift = 14 - e;
          let half = mant >> shift;
          const rem = mant & ((1 << shift) - 1);
          const mid = 1 << (shift - 1);
          if (rem > mid || (rem === mid && half & 1)) half++;
          h = sign | half;
        }
      } else {
        let half = (e << 10) | (mant >> 13);
        const rem = mant & 0x1fff;
        if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
        h = sign | half;
      }
    }
    out[offset + i] = h;
  }
  return out;
}
