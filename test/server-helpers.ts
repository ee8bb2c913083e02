import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

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
