import type { VectorStore } from '../../store/port.js';
import { readsGraph, RERANK_METHODS, type RerankMethod } from './rerankers.js';
import type { RerankDefaults } from '../stages/neighbours.js';

/** The collection setting (visor.json) holding what queries re-rank with when they do not say. */
export const RERANK_SETTING = 'rerank';

/**
 * What a collection re-ranks with unless it says otherwise: nothing. Diffusion helps image
 * queries on CIFAR-10 (docs/reranking.md), but a result's score (its cosine) is then out of
 * order, and excluding the query itself changes the walk's start, so a collection opts in
 * (setDefaults, `visor index --image-rerank diffusion`).
 */
export const DEFAULT_RERANK: RerankDefaults = { image: 'none', text: 'none' };

function method(v: unknown, fallback: RerankMethod): RerankMethod {
  return typeof v === 'string' && (RERANK_METHODS as readonly string[]).includes(v) ? (v as RerankMethod) : fallback;
}

export function rerankDefaults(store: Pick<VectorStore, 'manifest'>): RerankDefaults {
  const s = store.manifest.settings[RERANK_SETTING] as Partial<RerankDefaults> | undefined;
  return { image: method(s?.image, DEFAULT_RERANK.image), text: method(s?.text, DEFAULT_RERANK.text) };
}

export function saveRerankDefaults(store: Pick<VectorStore, 'manifest' | 'saveSettings'>, given: Partial<RerankDefaults>): RerankDefaults {
  const next = { ...rerankDefaults(store), ...given };
  store.saveSettings({ [RERANK_SETTING]: next });
  return next;
}

/** Whether the collection keeps a neighbour graph: one of its defaults reads it (αQE alone does not). */
export function wantsGraph(d: RerankDefaults): boolean {
  return [d.image, d.text].some(readsGraph);
}
