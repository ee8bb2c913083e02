import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';

/** Flickr8k test captions: all five of each image, in caption order, by file name. */
export function allCaptions(): Map<string, string[]> {
  const file = path.resolve(import.meta.dirname, '..', '..', 'shared', 'datasets', 'flickr8k-test1k', 'captions_test1k.csv');
  const out = new Map<string, string[]>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
    const m = /^([^,]+),(\d+),(.*)$/.exec(line.trim());
    if (!m) continue;
    const list = out.get(m[1]!) ?? [];
    list[Number(m[2])] = m[3]!.replace(/^"|"$/g, '').replace(/""/g, '"').trim();
    out.set(m[1]!, list);
  }
  return out;
}

/** The first caption of each image, by file name (what the test catalogues index). */
export function firstCaptions(): Map<string, string> {
  return new Map([...allCaptions()].map(([f, c]) => [f, c[0] ?? '']));
}

/** Captions 2–5 of each image: the index never sees them, so they judge results independently. */
export function otherCaptions(): Map<string, string[]> {
  return new Map([...allCaptions()].map(([f, c]) => [f, c.slice(1)]));
}

/** A catalogue (path,title) giving each image its first caption as title. */
export function writeCaptionCatalogue(file: string, images: readonly string[]): void {
  const captions = firstCaptions();
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const rows = images.map((p) => `${q(p)},${q(captions.get(path.basename(p)) ?? '')}`);
  fs.writeFileSync(file, ['path,title', ...rows].join('\n'));
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A few hundred bytes that claim a 30000×30000 RGB image (900 MP): a decompression bomb's header. */
export function bombPng(): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(30_000, 0);
  ihdr.writeUInt32BE(30_000, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(4096))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * A request with the path sent exactly as written (fetch would resolve "../" before sending,
 * which would test the client, not the server).
 */
export function rawGet(base: string, rawPath: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: rawPath, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A multipart/form-data body: an optional JSON query part and image files. */
export function form(files: Array<{ field: string; bytes: Buffer; name?: string; type?: string }>, query?: unknown): FormData {
  const f = new FormData();
  if (query !== undefined) f.append('query', JSON.stringify(query));
  for (const x of files) f.append(x.field, new Blob([new Uint8Array(x.bytes)], { type: x.type ?? 'image/jpeg' }), x.name ?? 'query.jpg');
  return f;
}
