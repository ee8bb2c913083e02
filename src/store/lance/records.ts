import { float16ToFloat32, float32ToFloat16 } from '../float16.js';
import { searchTextFor } from '../search-text.js';
import type { ItemWithVectors, MetaColumnType, MetaRecord, StoredItem } from '../types.js';
import { arrow, fixedSizeData, tableOf, type Arrow } from './arrow.js';

/** Rows of the items table ↔ item records. */

function toNumberArray(v: unknown): number[] {
  if (v == null) return [];
  const arr = (v as { toArray?: () => ArrayLike<unknown> }).toArray?.() ?? (v as ArrayLike<unknown>);
  return Array.from(arr, (x) => Number(x));
}

function toStringArray(v: unknown): string[] {
  if (v == null) return [];
  const arr = (v as { toArray?: () => ArrayLike<unknown> }).toArray?.() ?? (v as ArrayLike<unknown>);
  return Array.from(arr, (x) => String(x));
}

/** An item from a row of the summary columns. */
export function rowToItem(r: Record<string, unknown>): StoredItem {
  return {
    id: String(r.id),
    path: String(r.path),
    paths: toStringArray(r.paths),
    fileSizes: toNumberArray(r.file_sizes),
    fileMtimes: toNumberArray(r.file_mtimes),
    width: Number(r.img_width),
    height: Number(r.img_height),
    format: String(r.img_format),
    indexedAt: Number(r.indexed_at),
    // The JSON column is the record as given; typed columns are for filtering.
    meta: JSON.parse(String(r.meta ?? '{}')) as MetaRecord,
  };
}

/** An item with its vectors from a whole row (no probs column: an empty Float32Array). */
export function rowToItemWithVectors(r: Record<string, unknown>): ItemWithVectors {
  const item = rowToItem(r);
  const vector = Float32Array.from((r.vector as { toArray(): Float32Array }).toArray());
  const probs = r.probs == null ? new Float32Array(0) : float16ToFloat32((r.probs as { toArray(): Uint16Array }).toArray());
  return { ...item, vector, probs };
}

/** A copy of a meta record (its values are JSON: strings, numbers, booleans, maybe nested). */
export function structuredCloneMeta(meta: MetaRecord): MetaRecord {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta)) out[k] = v !== null && typeof v === 'object' ? structuredClone(v) : v;
  return out as MetaRecord;
}

/** A copy of an item held in memory, which the caller may change. */
export function copyItem(it: StoredItem): StoredItem {
  return { ...it, paths: [...it.paths], fileSizes: [...it.fileSizes], fileMtimes: [...it.fileMtimes], meta: structuredCloneMeta(it.meta) };
}

/**
 * Items as one Arrow batch of the table's schema, built column by column from typed arrays: no
 * per-number conversion. Catalogue columns get the typed value of the item's meta field.
 */
export function itemsToArrow(
  items: readonly ItemWithVectors[],
  schema: Arrow.Schema,
  metaCols: Record<string, MetaColumnType>,
  dim: number,
  classes: number,
): Arrow.Table {
  const n = items.length;
  const vectors = new Float32Array(n * dim);
  const probs = new Uint16Array(n * classes);
  items.forEach((it, i) => {
    if (it.vector.length !== dim) throw new Error(`vector of ${it.vector.length} dims, index holds ${dim}`);
    vectors.set(it.vector, i * dim);
    if (classes > 0) float32ToFloat16(it.probs, probs, i * classes);
  });
  const typeOf = (name: string) => schema.fields.find((f) => f.name === name)!.type;
  const column = (name: string, value: (item: ItemWithVectors) => unknown) => arrow.vectorFromArray(items.map(value), typeOf(name)).data[0]!;
  const byName: Record<string, Arrow.Data> = {
    id: column('id', (i) => i.id),
    path: column('path', (i) => i.path),
    paths: column('paths', (i) => i.paths),
    file_sizes: column('file_sizes', (i) => i.fileSizes),
    file_mtimes: column('file_mtimes', (i) => i.fileMtimes),
    vector: fixedSizeData(typeOf('vector') as Arrow.FixedSizeList, vectors, n),
    img_width: column('img_width', (i) => i.width),
    img_height: column('img_height', (i) => i.height),
    img_format: column('img_format', (i) => i.format),
    indexed_at: column('indexed_at', (i) => i.indexedAt),
    meta: column('meta', (i) => JSON.stringify(i.meta)),
    search_text: column('search_text', (i) => searchTextFor(i.path, i.meta)),
  };
  if (classes > 0) byName.probs = fixedSizeData(typeOf('probs') as Arrow.FixedSizeList, probs, n);
  for (const [c, type] of Object.entries(metaCols)) {
    byName[c] = column(c, (it) => {
      const v = it.meta[c];
      if (v == null) return null;
      if (type === 'string') return String(v);
      const num = typeof v === 'number' ? v : Number(v);
      return Number.isFinite(num) ? num : null; // the raw text stays in the meta column
    });
  }
  return tableOf(schema, byName, n);
}
