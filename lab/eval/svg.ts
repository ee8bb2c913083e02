/**
 * Hand-written SVG plots for evaluation reports: a confusion matrix and precision–recall
 * curves. Plain strings, no plotting dependency; every number drawn is also in the JSON
 * report beside the file.
 */

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const FONT = 'font-family="Helvetica, Arial, sans-serif"';

/**
 * Confusion matrix: rows = true category, columns = predicted; each cell shows its count and
 * is shaded by the row's share (so rare categories read as clearly as common ones).
 */
export function confusionMatrixSvg(categories: readonly string[], confusion: readonly (readonly number[])[], title: string): string {
  const k = categories.length;
  const cell = Math.max(28, Math.min(56, Math.floor(560 / k)));
  const labelW = 8 + 7 * Math.max(...categories.map((c) => c.length), 4);
  const top = 64 + labelW * 0.75;
  const left = labelW + 40;
  const width = left + k * cell + 24;
  const height = top + k * cell + 48;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width.toFixed(0)}" height="${height.toFixed(0)}" viewBox="0 0 ${width.toFixed(0)} ${height.toFixed(0)}">`,
  );
  parts.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  parts.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" ${FONT}>${esc(title)}</text>`);
  parts.push(`<text x="${left + (k * cell) / 2}" y="${top - labelW * 0.75 - 8}" text-anchor="middle" font-size="12" ${FONT}>predicted</text>`);
  parts.push(`<text transform="translate(14 ${top + (k * cell) / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>true</text>`);
  for (let j = 0; j < k; j++) {
    const x = left + j * cell + cell / 2;
    parts.push(`<text transform="translate(${x} ${top - 6}) rotate(-45)" font-size="11" ${FONT}>${esc(categories[j]!)}</text>`);
  }
  for (let i = 0; i < k; i++) {
    const row = confusion[i]!;
    const total = row.reduce((s, v) => s + v, 0);
    const y = top + i * cell;
    parts.push(`<text x="${left - 6}" y="${y + cell / 2 + 4}" text-anchor="end" font-size="11" ${FONT}>${esc(categories[i]!)}</text>`);
    for (let j = 0; j < k; j++) {
      const v = row[j]!;
      const share = total > 0 ? v / total : 0;
      // White → blue by share of the row; diagonal cells in blue, errors in orange.
      const [r, g, b] = i === j ? [33, 102, 172] : [217, 95, 2];
      const mix = (c: number) => Math.round(255 + (c - 255) * Math.min(1, share * (i === j ? 1 : 3)));
      const fill = `rgb(${mix(r)},${mix(g)},${mix(b)})`;
      const x = left + j * cell;
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="#ddd"/>`);
      const dark = (i === j && share > 0.5) || (i !== j && share > 0.2);
      parts.push(
        `<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" font-size="${cell >= 40 ? 11 : 9}" fill="${dark ? '#fff' : '#222'}" ${FONT}>${v}</text>`,
      );
    }
  }
  parts.push('</svg>');
  return parts.join('\n');
}

export interface Curve {
  label: string;
  recall: readonly number[];
  precision: readonly number[];
}

const COLOURS = ['#2166ac', '#d95f02', '#1b9e77', '#7570b3', '#e7298a', '#66a61e'];

/** Precision–recall curves (interpolated, as from `precisionRecallCurve`) on one chart. */
export function precisionRecallSvg(curves: readonly Curve[], title: string): string {
  const W = 520;
  const H = 420;
  const m = { left: 56, right: 20, top: 40, bottom: 48 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const px = (r: number) => m.left + r * pw;
  const py = (p: number) => m.top + (1 - p) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`);
  parts.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" ${FONT}>${esc(title)}</text>`);
  for (let t = 0; t <= 10; t += 2) {
    const v = t / 10;
    parts.push(`<line x1="${px(0)}" y1="${py(v)}" x2="${px(1)}" y2="${py(v)}" stroke="#eee"/>`);
    parts.push(`<line x1="${px(v)}" y1="${py(0)}" x2="${px(v)}" y2="${py(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.left - 6}" y="${py(v) + 4}" text-anchor="end" font-size="11" ${FONT}>${v.toFixed(1)}</text>`);
    parts.push(`<text x="${px(v)}" y="${py(0) + 16}" text-anchor="middle" font-size="11" ${FONT}>${v.toFixed(1)}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${m.left + pw / 2}" y="${H - 10}" text-anchor="middle" font-size="12" ${FONT}>recall</text>`);
  parts.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>precision</text>`);
  curves.forEach((c, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const pts = c.recall.map((r, j) => `${px(r).toFixed(1)},${py(c.precision[j]!).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${pts}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    c.recall.forEach((r, j) => parts.push(`<circle cx="${px(r).toFixed(1)}" cy="${py(c.precision[j]!).toFixed(1)}" r="2.5" fill="${colour}"/>`));
    const ly = m.top + 16 + i * 18;
    parts.push(`<line x1="${px(1) - 190}" y1="${ly - 4}" x2="${px(1) - 170}" y2="${ly - 4}" stroke="${colour}" stroke-width="2"/>`);
    parts.push(`<text x="${px(1) - 164}" y="${ly}" font-size="11" ${FONT}>${esc(c.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
