import fs from 'node:fs';
import path from 'node:path';
import { resolvePaths, type VisorPaths } from '../config.js';
import { VisorError } from '../errors.js';
import { findAnyModel, idFromFolder } from '../models/local-models.js';
import type { ModelSpec } from '../models/registry.js';
import type { VectorStore } from '../store/port.js';
import { mapUnordered } from './concurrent.js';
import type { CrawlProblem } from './crawl.js';
import type { EmbedPool } from './embed-pool.js';
import { DEFAULT_MAX_FILE_BYTES, readAndHash } from './read-image.js';

/** The model behind an embedding space, as `--model` names it. */
export interface SpaceModel {
  /** Space name: the model id (a folder's name for a folder). */
  name: string;
  /** A built-in or added model, when it is one. */
  spec?: ModelSpec;
  /** A model folder used directly. */
  folder?: string;
}

/**
 * What `--model` means: a built-in or added vision–language model id, or a folder in the
 * Hugging Face ONNX layout (used in place, named after the folder).
 */
export function spaceModelFor(ref: string, paths: VisorPaths = resolvePaths()): SpaceModel {
  const spec = findAnyModel(ref, paths);
  if (spec) {
    if (spec.format !== 'hf-onnx')
      throw new VisorError('QUERY_INVALID', `${ref} is an image model without a text tower; --space takes a vision–language model such as clip-vit-b32`);
    return { name: spec.id, spec };
  }
  const abs = path.resolve(ref);
  if (fs.statSync(abs, { throwIfNoEntry: false })?.isDirectory()) return { name: idFromFolder(abs), folder: abs };
  throw new VisorError('MODEL_UNKNOWN', `unknown model ${JSON.stringify(ref)}: not a model id (see 'visor models list') nor a model folder`);
}

/** The model a recorded space was made with, to fill it further or embed queries into it. */
export function spaceModelOf(space: { name: string; model: string; folder?: string }, paths: VisorPaths = resolvePaths()): SpaceModel {
  if (space.folder) return { name: space.name, folder: space.folder };
  const spec = findAnyModel(space.model, paths);
  if (!spec) throw new VisorError('MODEL_UNKNOWN', `space ${space.name} was made with ${space.model}, which is not known here; see 'visor models list'`);
  return { name: space.name, spec };
}

export interface SpaceFillOptions {
  readAhead?: number;
  commitSize?: number;
  maxFileBytes?: number;
  signal?: AbortSignal;
  onProgress?: (p: { space: string; done: number; total: number }) => void;
}

export interface SpaceFillSummary {
  space: string;
  /** Items embedded into the space by this run. */
  embedded: number;
  /** Items already in the space. */
  already: number;
  skipped: CrawlProblem[];
  interrupted: boolean;
}

/**
 * Embeds every stored item that has no vector in the space yet (incremental: a second run
 * embeds only new items). The pool (the model's image tower) is only started when there is
 * something to embed; its feature size creates the space on first use.
 */
export async function fillSpace(
  store: VectorStore,
  name: string,
  info: { model: string; folder?: string },
  startPool: () => Promise<EmbedPool>,
  opts: SpaceFillOptions = {},
): Promise<SpaceFillSummary> {
  const aborted = () => opts.signal?.aborted === true;
  const commitSize = Math.max(1, opts.commitSize ?? 256);
  const maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const exists = store.spaces().some((s) => s.name === name);
  const have = exists ? await store.spaceIds(name) : new Set<string>();
  // Every path of every stored item: a file that moved or went may have a duplicate elsewhere.
  const files = new Map<string, Array<{ path: string; size: number }>>();
  for (const s of await store.fileStates()) {
    if (have.has(s.id)) continue;
    const list = files.get(s.id);
    if (list) list.push({ path: s.path, size: s.size });
    else files.set(s.id, [{ path: s.path, size: s.size }]);
  }
  const summary: SpaceFillSummary = { space: name, embedded: 0, already: have.size, skipped: [], interrupted: false };
  const todo = [...files.entries()];
  if (todo.length === 0 || aborted()) {
    summary.interrupted = aborted() && todo.length > 0;
    return summary;
  }
  const pool = await startPool();
  await store.ensureSpace(name, { ...info, dimension: pool.featureDim });

  let ids: string[] = [];
  let rows: Float32Array[] = [];
  const commit = async () => {
    if (ids.length === 0) return;
    const matrix = new Float32Array(ids.length * pool.featureDim);
    rows.forEach((r, i) => matrix.set(r, i * pool.featureDim));
    await store.addSpaceVectors(name, ids, matrix);
    summary.embedded += ids.length;
    ids = [];
    rows = [];
  };
  const embedOne = async ([id, paths]: [string, Array<{ path: string; size: number }>]) => {
    let why = 'no readable file';
    for (const p of paths) {
      const r = await readAndHash(p.path, p.size, maxFileBytes);
      if (r.kind === 'failed') why = r.reason;
      // The file changed since it was indexed: the next index run stores its new content.
      else if (r.id !== id) why = 'file changed since it was indexed';
      else return { id, path: p.path, outcome: await pool.embed(id, r.bytes) };
    }
    return { id, path: paths[0]!.path, outcome: { ok: false as const, reason: why } };
  };
  let done = 0;
  opts.onProgress?.({ space: name, done, total: todo.length });
  for await (const r of mapUnordered(todo, Math.max(1, opts.readAhead ?? 64), embedOne, aborted)) {
    done++;
    if (r.outcome.ok) {
      ids.push(r.id);
      rows.push(r.outcome.vector);
      if (ids.length >= commitSize) await commit();
    } else summary.skipped.push({ path: r.path, reason: `${name}: ${r.outcome.reason}` });
    opts.onProgress?.({ space: name, done, total: todo.length });
  }
  await commit();
  summary.interrupted = aborted() && done < todo.length;
  return summary;
}
