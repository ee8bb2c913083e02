/**
 * GPT-2's byte-level alphabet, which CLIP's BPE vocabulary is written in: every byte maps to
 * one printable character, so any UTF-8 text becomes a string the merges can act on and no
 * input is ever out of vocabulary. Printable Latin-1 bytes map to themselves; the others
 * (controls, space, NBSP, soft hyphen) are moved to code points from U+0100 up, in byte order.
 */
function buildByteToChar(): string[] {
  const map: string[] = new Array<string>(256);
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 256;
  for (let b = 0; b < 256; b++) map[b] = String.fromCodePoint(printable(b) ? b : next++);
  return map;
}

const BYTE_TO_CHAR = buildByteToChar();
const encoder = new TextEncoder();

/** The byte-level form of `text`: one character per UTF-8 byte. */
export function toByteLevel(text: string): string[] {
  const bytes = encoder.encode(text);
  const out = new Array<string>(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = BYTE_TO_CHAR[bytes[i]!]!;
  return out;
}
