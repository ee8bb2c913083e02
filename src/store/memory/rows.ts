import { float16ToFloat32, float32ToFloat16 } from '../float16.js';
import { searchTextFor } from '../search-text.js';
import type { ItemWithVectors, MetaColumnType, MetaRecord, StoredItem } from '../types.js';
import type { FilterRow } from './where.js';

/** Items ↔ the memory store's rows, kept as LanceDB keeps them. */

/** One stored item: its record as given (meta as JSON, as LanceDB keeps it), vectors, and what filters and keywords read. */
export interface Row {
  item: Omit<ItemWithVectors, 'meta'>;
  metaJson: string;
  /** Scalar columns for filters: the core ones and the catalogue columns that existed when it was written. */
  columns: FilterRow;
  searchText: string;
}

/** The core columns a filter can compare, with their types (as in LanceDB's items table). */
export const CORE_FILTER_COLUMNS: Readonly<Record<string, MetaColumnType>> = {
  id: 'string',
  path: 'string',
  img_width: 'number',
  img_height: 'number',
  img_format: 'string',
  indexed_at: 'number',
  meta: 'string',
  search_text: 'string',
};
/** Core columns of lists, which filters cannot compare. */
export const LIST_COLUMNS: ReadonlySet<string> = new Set(['paths', 'file_sizes', 'file_mtimes', 'vector', 'probs']);

/** A catalogue value as its typed column holds it (the raw value stays in meta). */
function typedValue(v: MetaRecord[string] | undefined, type: MetaColumnType): string | number | null {
  if (v == null) return null;
  if (type === 'string') return String(v);
  const num = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(num) ? num : null;
}

/** Rows for items, checked as LanceDB checks them (a vector of the wrong length is refused); probabilities at half precision. */
export function toRows(items: readonly ItemWithVectors[], dim: number, classes: number, catalogue: Readonly<Record<string, MetaColumnType>>): Row[] {
  return items.map((it) => {
    if (it.vector.length !== dim) throw new Error(`vector of ${it.vector.length} dims, index holds ${dim}`);
    const probs = classes > 0 ? float16ToFloat32(float32ToFloat16(Float32Array.from({ length: classes }, (_, i) => it.probs[i] ?? 0))) : new Float32Array(0);
    const metaJson = JSON.stringify(it.meta);
    const columns: Record<string, string | number | null> = {
      id: it.id,
      path: it.path,
      img_width: it.width,
      img_height: it.height,
      img_format: it.format,
      indexed_at: it.indexedAt,
      meta: metaJson,
      search_text: searchTextFor(it.path, it.meta),
    };
    for (const [c, type] of Object.entries(catalogue)) columns[c] = typedValue(it.meta[c], type);
    const item = {
      id: it.id,
      path: it.path,
      paths: [...it.paths],
      fileSizes: [...it.fileSizes],
      fileMtimes: [...it.fileMtimes],
      width: it.width,
      height: it.height,
      format: it.format,
      indexedAt: it.indexedAt,
      vector: Float32Array.from(it.vector),
      probs,
    };
    return { item, metaJson, columns, searchText: columns.search_text as string };
  });
}

/** A row's record: a copy the caller may change. */
export function toRecord(row: Row): StoredItem {
  const { vector: _v, probs: _p, ...rest } = row.item;
  return { ...rest, paths: [...rest.paths], fileSizes: [...rest.fileSizes], fileMtimes: [...rest.fileMtimes], meta: JSON.parse(row.metaJson) as MetaRecord };
}
