import type { VisorPaths } from '../config.js';
import type { FactStage } from '../core/facts.js';
import { VisorError } from '../errors.js';
import type { ResolveOptions } from '../models/resolve.js';
import type { FactReader } from './reader.js';

/** What every fact reader is loaded with. */
export interface FactReaderOptions {
  /** Inference threads of the reader's model (the facts workers use 1 each, one worker per core). */
  threads?: number;
  /** Where models are looked for (default: resolvePaths(), i.e. VISOR_MODELS_PATH and the models folder). */
  paths?: VisorPaths;
}

/** The stages this build has a reader for. */
export const BUILT_READERS: readonly FactStage[] = ['objects', 'colours', 'text', 'faces'];

/**
 * The reader of one fact stage, loaded on demand (its model and runtime load only when the
 * stage is switched on): objects → the object detector, colours → the colour namer, text → OCR.
 */
export async function loadFactReader(stage: FactStage, opts: FactReaderOptions = {}): Promise<FactReader> {
  const threads = opts.threads ?? 1;
  if (stage === 'objects') return (await import('./objects-reader.js')).ObjectsReader.load({ threads, ...(opts.paths ? { paths: opts.paths } : {}) });
  if (stage === 'colours') return (await import('./colours-reader.js')).createColoursReader();
  if (stage === 'text') return (await import('./text-reader.js')).TextReader.load({ threads });
  if (stage === 'faces') return (await import('../faces/face-reader.js')).FaceReader.load({ threads, ...(opts.paths ? { paths: opts.paths } : {}) });
  throw new VisorError('MODEL_NOT_FOUND', `the ${stage} fact stage has no reader in this build`);
}

/**
 * Fetches (and verifies) the model files of these stages' readers on this thread, once, before
 * worker threads load them: several workers would otherwise download the same files at once.
 */
export async function prepareFactReaders(stages: readonly FactStage[], opts: ResolveOptions = {}): Promise<void> {
  if (stages.includes('objects')) {
    const [{ resolveModel }, { YOLOX_NANO_COCO }] = await Promise.all([import('../models/resolve.js'), import('../models/registry.js')]);
    await resolveModel(YOLOX_NANO_COCO, opts);
  }
  if (stages.includes('faces')) {
    const [{ resolveModel }, { YUNET_FACE, MOBILEFACENET }] = await Promise.all([import('../models/resolve.js'), import('../models/registry.js')]);
    await resolveModel(YUNET_FACE, opts);
    await resolveModel(MOBILEFACENET, opts);
  }
}

/** The readers of these stages, in reading order; those loaded so far are closed when one fails to load. */
export async function loadFactReaders(stages: readonly FactStage[], opts: FactReaderOptions = {}): Promise<Map<FactStage, FactReader>> {
  const readers = new Map<FactStage, FactReader>();
  try {
    for (const s of stages) readers.set(s, await loadFactReader(s, opts));
  } catch (e) {
    for (const r of readers.values()) await r.close().catch(() => undefined);
    throw e;
  }
  return readers;
}
