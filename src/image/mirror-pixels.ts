/**
 * Mirrors square RGB pixels left–right: what the model would see of a mirrored file, without
 * decoding it again (shared by the classifier's mirror images and the joint model's flips).
 */
export function mirrorPixels(rgb: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(rgb.length);
  for (let y = 0; y < size; y++) {
    const row = y * size * 3;
    for (let x = 0; x < size; x++) {
      const s = row + x * 3;
      const d = row + (size - 1 - x) * 3;
      out[d] = rgb[s]!;
      out[d + 1] = rgb[s + 1]!;
      out[d + 2] = rgb[s + 2]!;
    }
  }
  return out;
}
