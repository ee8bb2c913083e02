import { FACT_STAGES, type FactStage } from '../core/facts.js';
import { VisorError } from '../errors.js';
import type { VectorStore } from '../store/port.js';
import { BUILT_READERS } from './readers.js';

/**
 * Which fact stages a collection computes, kept in its settings (visor.json). A collection that
 * never chose gets the defaults, picked by cost so that indexing stays at 100 images/s and more
 * on two cores: colours (under 1 core-ms per image, plus a decode). Objects (~30 core-ms per
 * image on one core, against ~10 for everything else indexing does) and text (OCR, more again)
 * are switched on per collection. Switching a stage on computes it for the existing images on
 * the next index run; switching it off keeps what was stored, unread until it is switched on again.
 */
export const DEFAULT_FACT_STAGES: readonly FactStage[] = (['colours'] as const).filter((s) => BUILT_READERS.includes(s));

const KEY = 'facts';

export function factStages(store: Pick<VectorStore, 'manifest'>): FactStage[] {
  const saved = (store.manifest.settings[KEY] as { stages?: FactStage[] } | undefined)?.stages;
  return FACT_STAGES.filter((s) => (saved ?? DEFAULT_FACT_STAGES).includes(s));
}

export function saveFactStages(store: Pick<VectorStore, 'manifest' | 'saveSettings'>, stages: readonly FactStage[]): FactStage[] {
  const next = parseFactStages(stages);
  const missing = next.filter((s) => !BUILT_READERS.includes(s));
  if (missing.length > 0)
    throw new VisorError('MODEL_NOT_FOUND', `this build has no reader for the ${missing.join(' and ')} fact stage${missing.length > 1 ? 's' : ''}`);
  store.saveSettings({ [KEY]: { stages: next } });
  return next;
}

/** Stage names as a user gives them (a list, or "objects,colours"; "all", "none"), checked and put in reading order. */
export function parseFactStages(given: string | readonly string[]): FactStage[] {
  const names = (typeof given === 'string' ? given.split(',') : given).map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (names.length === 1 && names[0] === 'all') return [...FACT_STAGES];
  if (names.length === 1 && names[0] === 'none') return [];
  // "color" is how many people spell it.
  const wanted = names.map((n) => (n === 'color' || n === 'colors' ? 'colours' : n === 'colour' ? 'colours' : n === 'object' ? 'objects' : n));
  const unknown = wanted.filter((n) => !(FACT_STAGES as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new VisorError(
      'QUERY_INVALID',
      `unknown fact stage ${unknown.map((u) => JSON.stringify(u)).join(', ')}: the stages are ${FACT_STAGES.join(', ')} (or all, none)`,
    );
  }
  return FACT_STAGES.filter((s) => wanted.includes(s));
}
