import fs from 'node:fs/promises';
import sharp from 'sharp';
import type { LabelsEvalReport } from './labels-eval.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function thumb(file: string): Promise<string | null> {
  try {
    const b = await sharp(await fs.readFile(file), { autoOrient: true })
      .resize(96, 96, { fit: 'inside' })
      .jpeg({ quality: 70 })
      .toBuffer();
    return `data:image/jpeg;base64,${b.toString('base64')}`;
  } catch {
    return null;
  }
}

/** The precision–recall curve (11-point interpolated) as an inline SVG. */
function prCurve(pr: LabelsEvalReport['precisionRecall']): string {
  const W = 360;
  const H = 260;
  const x = (r: number) => 40 + r * (W - 60);
  const y = (p: number) => H - 30 - p * (H - 50);
  const pts = pr.recall.map((r, i) => `${x(r).toFixed(1)},${y(pr.precision[i]!).toFixed(1)}`).join(' ');
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return (
    `<svg id="pr-curve" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="precision–recall curve">` +
    ticks
      .map(
        (t) =>
          `<line x1="${x(0)}" x2="${x(1)}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/><text x="8" y="${y(t) + 4}" font-size="10">${t}</text><text x="${x(t) - 8}" y="${H - 12}" font-size="10">${t}</text>`,
      )
      .join('') +
    `<polyline points="${pts}" fill="none" stroke="#2563eb" stroke-width="2"/>` +
    pr.recall.map((r, i) => `<circle cx="${x(r)}" cy="${y(pr.precision[i]!)}" r="3" fill="#2563eb"/>`).join('') +
    `<text x="${W / 2}" y="${H - 1}" font-size="11" text-anchor="middle">recall</text><text x="10" y="12" font-size="11">precision</text></svg>`
  );
}

/** The classifier's confusion matrix as a table, each cell shaded by its share of the row (the label's images). */
function confusionTable(c: LabelsEvalReport['classifier']): string {
  if (!c) return '';
  if ('notMeasured' in c) return `<h2>Category classifier</h2><p id="classifier">Not measured: ${esc(c.notMeasured)}.</p>`;
  const head = `<tr><th>label \\ predicted</th>${c.categories.map((l) => `<th>${esc(l)}</th>`).join('')}</tr>`;
  const rows = c.confusion.map((row, i) => {
    const total = Math.max(
      1,
      row.reduce((a, v) => a + v, 0),
    );
    const cells = row.map((v, j) => {
      const share = v / total;
      const colour = i === j ? `rgba(22,163,74,${share.toFixed(2)})` : `rgba(220,38,38,${share.toFixed(2)})`;
      return `<td style="background:${colour}" title="${(share * 100).toFixed(1)} %">${v}</td>`;
    });
    return `<tr><th>${esc(c.categories[i]!)}</th>${cells.join('')}</tr>`;
  });
  return (
    `<h2>Category classifier</h2><p id="classifier">${c.folds}-fold cross-validation on ${c.items} images: accuracy ${c.accuracy.toFixed(4)}, balanced accuracy ${c.balancedAccuracy.toFixed(4)}. ` +
    'Rows: the label; columns: the label predicted by a classifier that never saw the image.</p>' +
    `<table id="confusion" class="confusion">${head}${rows.join('')}</table>`
  );
}

/** Text→image with the label names as queries: AP per label as bars, names not understood said so. */
function zeroShotSection(z: LabelsEvalReport['zeroShot']): string {
  if (!z) return '';
  const bars = z.perLabel
    .map(
      (l) =>
        `<div class="bar"><span class="name">${esc(l.label)}</span><span class="track"><span class="fill" style="width:${(l.ap * 100).toFixed(1)}%"></span></span><span>${l.understood ? l.ap.toFixed(3) : 'not understood'}</span></div>`,
    )
    .join('');
  return `<h2>Zero-shot: label names as text queries</h2><p>mAP ${z.map.toFixed(4)}${z.notUnderstood.length ? ` (no signal understands ${z.notUnderstood.map((l) => esc(JSON.stringify(l))).join(', ')}: AP 0)` : ''}.</p><div id="zero-shot">${bars}</div>`;
}

/**
 * One self-contained page for `visor eval labels --report`: the figures, the precision–recall
 * curve, per-label bars (worst first), the classifier's confusion matrix, and the worst queries as image strips (the query, its first
 * results, the relevant images it missed). Images are embedded, so the page can be mailed.
 */
export async function labelsReportPage(r: LabelsEvalReport, title: string): Promise<string> {
  const bars = r.perLabel
    .map(
      (l) =>
        `<div class="bar"><span class="name">${esc(l.label)}</span><span class="track"><span class="fill" style="width:${(l.map * 100).toFixed(1)}%"></span></span><span>${l.map.toFixed(3)}</span></div>`,
    )
    .join('');
  const strips: string[] = [];
  for (const q of r.worstQueries) {
    const cell = async (file: string, cls: string, caption: string) => {
      const src = await thumb(file);
      return `<figure class="${cls}">${src ? `<img src="${src}" alt="${esc(caption)}">` : '<div class="missing">unreadable</div>'}<figcaption>${esc(caption)}</figcaption></figure>`;
    };
    const cells = [await cell(q.path, 'query', `query: ${q.label}`)];
    for (const t of q.top) cells.push(await cell(t.path, t.label === q.label ? 'hit' : 'miss', t.label));
    const missed: string[] = [];
    for (const m of q.missed) missed.push(await cell(m, 'missed', q.label));
    strips.push(
      `<section class="worst-query"><h3>AP ${q.ap.toFixed(3)} · ${esc(q.path.split(/[\\/]/).pop() ?? q.path)}</h3><div class="strip">${cells.join('')}</div>` +
        (missed.length ? `<div class="strip"><span class="lbl">missed:</span>${missed.join('')}</div>` : '') +
        '</section>',
    );
  }
  const m = r.metrics;
  const figures: Array<[string, number]> = [
    [`mAP@${r.k.map}`, m.mapAtK],
    ['mAP@all', m.mapAll],
    [`P@${r.k.precision}`, m.precisionAtK],
    ['R-Precision', m.rPrecision],
    ['R@1', m.recallAt1],
    [`Recall@${r.k.map}`, m.recallAtK],
  ];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse}td{padding:2px 12px 2px 0}
.bar{display:flex;gap:8px;align-items:center;margin:2px 0}.bar .name{width:140px;text-align:right}
.track{width:300px;height:12px;background:#eee;display:inline-block}.fill{height:12px;background:#2563eb;display:block}
.strip{display:flex;gap:6px;flex-wrap:wrap;align-items:flex-start;margin:4px 0}
figure{margin:0;width:100px;font-size:11px;text-align:center}img{max-width:96px;max-height:96px;border:3px solid #ccc}
.query img{border-color:#111}.hit img{border-color:#16a34a}.miss img{border-color:#dc2626}.missed img{border-color:#f59e0b}
.confusion td,.confusion th{border:1px solid #ddd;padding:2px 6px;text-align:right;font-size:12px}
.lbl{width:60px;font-size:12px;color:#555}.missing{width:96px;height:64px;background:#eee}
</style></head><body><h1>${esc(title)}</h1>
<p>${r.queries} queries over ${r.labels} labels (label column "${esc(r.label)}"), ${r.gallery} gallery images each. Relevant = same label.</p>
<table id="figures">${figures.map(([k, v]) => `<tr><td>${k}</td><td>${v.toFixed(4)}</td></tr>`).join('')}</table>
<h2>Precision–recall</h2>${r.queries ? prCurve(r.precisionRecall) : '<p>nothing to measure</p>'}
<h2>Per label (mAP, worst first)</h2><div id="per-label">${bars}</div>
${confusionTable(r.classifier)}
${zeroShotSection(r.zeroShot)}
<h2>Worst queries</h2><p>The query (black), its first results (green: same label, red: another), and relevant images it ranked low (amber).</p>
<div id="worst">${strips.join('\n')}</div>
</body></html>
`;
}
