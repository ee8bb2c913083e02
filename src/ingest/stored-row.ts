import type { ItemWithVectors, MetaRecord } from '../store/port.js';
import type { EmbedOutcome } from './embed-pool.js';
import type { PathRecord } from './path-ledger.js';

/** The stored item of newly embedded content: every path found with these bytes, the first one shown. */
export function storedRow(id: string, records: readonly PathRecord[], meta: MetaRecord, r: Extract<EmbedOutcome, { ok: true }>): ItemWithVectors {
  return {
    id,
    path: records[0]!.path,
    paths: records.map((x) => x.path),
    fileSizes: records.map((x) => x.size),
    fileMtimes: records.map((x) => x.mtimeMs),
    width: r.width,
    height: r.height,
    format: r.format,
    indexedAt: Date.now(),
    meta,
    vector: r.vector,
    probs: r.probs,
  };
}
