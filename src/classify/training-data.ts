import { VisorError } from '../errors.js';
import type { VectorStore } from '../store/port.js';
import type { FeatureRows } from './features.js';

export interface LabelledRows {
  /** Item ids, row-aligned with `rows` and `labels`. */
  ids: string[];
  rows: FeatureRows;
  labels: string[];
  /** Items without a value in the column (not used for training). */
  unlabelled: number;
}

/**
 * The stored features of every item with a value in catalogue column `column`, and that value
 * as its label. Reads in chunks; nothing is re-embedded.
 */
export async function loadLabelledRows(store: VectorStore, column: string, opts: { chunk?: number } = {}): Promise<LabelledRows> {
  const columns = await store.metaColumns();
  if (!(column in columns)) {
    const known = Object.keys(columns);
    throw new VisorError('QUERY_INVALID', `no catalogue column ${JSON.stringify(column)} in the index${known.length ? ` (columns: ${known.join(', ')})` : ''}`);
  }
  const { ids: all } = await store.vectors();
  const chunk = opts.chunk ?? 500;
  const ids: string[] = [];
  const labels: string[] = [];
  const feats: Float32Array[] = [];
  const probs: Float32Array[] = [];
  let unlabelled = 0;
  for (let start = 0; start < all.length; start += chunk) {
    for (const it of await store.getItemsWithVectors(all.slice(start, start + chunk))) {
      const v = it.meta[column];
      if (v === null || v === undefined || v === '') {
        unlabelled++;
        continue;
      }
      ids.push(it.id);
      labels.push(String(v));
      feats.push(it.vector);
      probs.push(it.probs);
    }
  }
  const fd = feats[0]?.length ?? 0;
  const pd = probs[0]?.length ?? 0;
  const rows: FeatureRows = { count: ids.length, features: new Float32Array(ids.length * fd), probs: new Float32Array(ids.length * pd) };
  feats.forEach((f, i) => rows.features.set(f, i * fd));
  probs.forEach((p, i) => rows.probs.set(p, i * pd));
  return { ids, rows, labels, unlabelled };
}
