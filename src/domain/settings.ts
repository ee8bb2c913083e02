import type { LocalizeMethod } from '../localize/localizer.js';
import type { VectorStore } from '../store/port.js';
import type { PredictorSpec } from './predictors.js';

/**
 * Which domain stages a collection has prepared, kept in its visor.json settings. Indexing
 * runs the prepared stages on new images, so the offline work stays done as a collection
 * grows; searches default to using them.
 */
export interface DomainSettings {
  localize?: { method: LocalizeMethod };
  categorize?: { predictor: PredictorSpec; catalogueColumn: string | null };
}

const KEY = 'domain';

export function domainSettings(store: Pick<VectorStore, 'manifest'>): DomainSettings {
  return (store.manifest.settings[KEY] as DomainSettings | undefined) ?? {};
}

export function saveDomainSettings(store: Pick<VectorStore, 'manifest' | 'saveSettings'>, patch: Partial<DomainSettings>): DomainSettings {
  const next = { ...domainSettings(store), ...patch };
  store.saveSettings({ [KEY]: next });
  return next;
}
