import fs from 'node:fs/promises';
import sharp from 'sharp';
import type { DuplicateItem, DuplicateReport } from './groups.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A small JPEG of the item's image as a data URL, so the page stands alone; null when the file no longer reads. */
async function thumbnail(item: DuplicateItem): Promise<string | null> {
  try {
    const bytes = await sharp(await fs.readFile(item.path), { autoOrient: true })
      .resize(180, 180, { fit: 'inside' })
      .jpeg({ quality: 75 })
      .toBuffer();
    return `data:image/jpeg;base64,${bytes.toString('base64')}`;
  } catch {
    return null;
  }
}

/** One self-contained HTML page showing each group of copies side by side, with sizes and confidence. */
export async function duplicatesPage(r: DuplicateReport): Promise<string> {
  const groups: string[] = [];
  for (const [n, g] of r.groups.entries()) {
    const cells: string[] = [];
    for (const i of g.items) {
      const src = await thumbnail(i);
      cells.push(
        `<figure>${src ? `<img src="${src}" alt="${esc(i.path)}">` : '<div class="missing">file not readable</div>'}` +
          `<figcaption>${esc(i.path.split(/[\\/]/).pop() ?? i.path)}<br>${i.width}×${i.height} · ${(i.bytes / 1024).toFixed(0)} KB</figcaption></figure>`,
      );
    }
    groups.push(
      `<section class="group"><h2>Group ${n + 1} · ${g.items.length} images · confidence ${g.confidence.toFixed(2)}</h2><div class="strip">${cells.join('')}</div></section>`,
    );
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Duplicates</title><style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222}
.group{margin:0 0 24px}.strip{display:flex;gap:12px;flex-wrap:wrap}
figure{margin:0;width:184px}img{max-width:180px;max-height:180px;border:2px solid #ccc}
figure:first-child img{border-color:#2a7}figcaption{font-size:12px;color:#555;word-break:break-all}
.missing{width:180px;height:120px;background:#eee;display:grid;place-items:center}
</style></head><body><h1>Near-duplicate images</h1>
<p>${r.groups.length} groups among ${r.items} images (${r.checked} of ${r.candidates} candidate pairs compared, ${r.seconds.toFixed(1)} s). In each group the largest image comes first.</p>
${groups.join('\n') || '<p>No copies found.</p>'}
</body></html>
`;
}
