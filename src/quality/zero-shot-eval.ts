import { VisorError } from '../errors.js';
import type { VectorStore } from '../store/port.js';
import { averagePrecisionNormalized } from './metrics.js';

/** Text→image with the label names as queries: how well search finds each label's images from its name alone. */
export interface ZeroShotFigures {
  /** Mean over every label of its AP (a label no signal understands counts 0). */
  map: number;
  /** The same over the labels understood only. */
  mapUnderstood: number;
  /** Per label, the worst first: the query read from the name, its images, AP over the whole ranking. */
  perLabel: Array<{ label: string; query: string; images: number; ap: number; understood: boolean }>;
  /** Labels no signal understood (their AP is 0): rename them, or train a joint model on captions. */
  notUnderstood: string[];
  seconds: number;
}

/** What answers a text query: the collection's search, with its ranking of item ids. */
export type TextSearch = (text: string, k: number) => Promise<{ understood: boolean; results: ReadonlyArray<{ id: string }> }>;

/** A query the search refuses (a name its syntax cannot read) counts as not understood, like one it reads nothing in. */
async function searchOrRefused(search: TextSearch, text: string, k: number): ReturnType<TextSearch> {
  try {
    return await search(text, k);
  } catch (e) {
    if (e instanceof VisorError) return { understood: false, results: [] };
    throw e;
  }
}

/** A label as words: "sports_car" and "sports-car" read as "sports car". */
export const labelQuery = (label: string) => label.replace(/[_-]+/g, ' ').trim();

/**
 * Each label name queries the collection as text; relevant = the images with that label. AP is
 * normalised by all of the label's images, so images the search does not return count as
 * missed. A name nothing understands (a product code, a word outside every vocabulary) gets AP
 * 0 and is reported; the other labels keep their figures.
 */
export async function zeroShotLabels(
  store: Pick<VectorStore, 'fileStates'>,
  labelOf: ReadonlyMap<string, string>,
  search: TextSearch,
  opts: { onProgress?: (done: number, total: number) => void } = {},
): Promise<ZeroShotFigures> {
  const started = performance.now();
  // Items, not files: identical files are one item, labelled by its first file.
  const labelOfId = new Map<string, string>();
  for (const s of await store.fileStates()) {
    const l = labelOf.get(s.path);
    if (l !== undefined && !labelOfId.has(s.id)) labelOfId.set(s.id, l);
  }
  const count = new Map<string, number>();
  for (const l of labelOfId.values()) count.set(l, (count.get(l) ?? 0) + 1);
  const labels = [...count.keys()].sort();
  const perLabel: ZeroShotFigures['perLabel'] = [];
  for (const [n, label] of labels.entries()) {
    const query = labelQuery(label);
    const r = query ? await searchOrRefused(search, query, labelOfId.size) : { understood: false, results: [] };
    const relevant = Uint8Array.from(r.results, (x) => (labelOfId.get(x.id) === label ? 1 : 0));
    const ap = r.understood ? averagePrecisionNormalized({ relevant, totalRelevant: count.get(label)! }) : 0;
    perLabel.push({ label, query, images: count.get(label)!, ap, understood: r.understood });
    opts.onProgress?.(n + 1, labels.length);
  }
  const understood = perLabel.filter((l) => l.understood);
  const mean = (xs: typeof perLabel) => (xs.length ? xs.reduce((a, l) => a + l.ap, 0) / xs.length : 0);
  return {
    map: mean(perLabel),
    mapUnderstood: mean(understood),
    perLabel: perLabel.sort((a, b) => a.ap - b.ap || a.label.localeCompare(b.label)),
    notUnderstood: perLabel.filter((l) => !l.understood).map((l) => l.label),
    seconds: (performance.now() - started) / 1000,
  };
}
