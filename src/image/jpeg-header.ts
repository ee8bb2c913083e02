/**
 * A JPEG's displayed size read from its own header bytes, so decoding a JPEG takes one libvips
 * call instead of two (metadata, then pixels): for small photos that per-call cost rivals the
 * decode itself. Anything unusual returns null and the caller asks libvips as before.
 */
export interface JpegHeader {
  /** Width and height after EXIF orientation, as libvips' autoOrient reports them. */
  width: number;
  height: number;
}

const be16 = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;

/** Orientation (1–8) from an APP1 Exif payload; 1 when the tag is absent; null when unreadable. */
function exifOrientation(b: Uint8Array, start: number, end: number): number | null {
  const t = start + 6; // after "Exif\0\0": a TIFF header
  if (t + 8 > end) return null;
  const little = b[t] === 0x49 && b[t + 1] === 0x49;
  if (!little && !(b[t] === 0x4d && b[t + 1] === 0x4d)) return null;
  const u16 = (i: number) => (little ? b[i]! | (b[i + 1]! << 8) : be16(b, i));
  const u32 = (i: number) => (little ? (u16(i) | (u16(i + 2) << 16)) >>> 0 : ((u16(i) << 16) | u16(i + 2)) >>> 0);
  if (u16(t + 2) !== 42) return null;
  const ifd = t + u32(t + 4);
  if (ifd + 2 > end) return null;
  const count = u16(ifd);
  if (ifd + 2 + count * 12 > end) return null;
  for (let k = 0; k < count; k++) {
    const e = ifd + 2 + k * 12;
    if (u16(e) !== 0x0112) continue;
    if (u16(e + 2) !== 3 || u32(e + 4) !== 1) return null; // not one SHORT: leave it to libexif
    const o = u16(e + 8);
    return o >= 1 && o <= 8 ? o : null;
  }
  return 1;
}

/** Frame size and orientation from the markers before the first scan, or null. */
export function readJpegHeader(b: Uint8Array): JpegHeader | null {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  let size: { width: number; height: number } | null = null;
  let orientation = 1;
  let exifBlocks = 0;
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xda) break; // start of scan: the header is complete
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) return null; // not expected here
    const len = be16(b, i + 2);
    const end = i + 2 + len;
    if (len < 2 || end > b.length) return null;
    const isExif =
      marker === 0xe1 && len >= 8 && b[i + 4] === 0x45 && b[i + 5] === 0x78 && b[i + 6] === 0x69 && b[i + 7] === 0x66 && b[i + 8] === 0 && b[i + 9] === 0;
    if (isExif) {
      // Several Exif blocks: which one libvips believes is its business.
      if (++exifBlocks > 1) return null;
      const o = exifOrientation(b, i + 4, end);
      if (o === null) return null;
      orientation = o;
    }
    // SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (size || len < 8) return null;
      const height = be16(b, i + 5);
      const width = be16(b, i + 7);
      if (width === 0 || height === 0) return null; // height 0 means "given later" (DNL)
      size = { width, height };
    }
    i = end;
  }
  if (!size || b[i + 1] !== 0xda) return null;
  return orientation >= 5 ? { width: size.height, height: size.width } : size;
}
