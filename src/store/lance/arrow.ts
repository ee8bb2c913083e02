import { createRequire } from 'node:module';
import type * as LanceDB from '@lancedb/lancedb';
import type * as Arrow from 'apache-arrow';

// Both are CommonJS packages: required directly, they skip the ESM wrapper's export scan.
// This is also the copy of Arrow LanceDB itself loads, so its instanceof checks hold.
const require = createRequire(import.meta.url);
export const arrow = require('apache-arrow') as typeof Arrow;
export const lancedb = require('@lancedb/lancedb') as typeof LanceDB;

export type { Arrow, LanceDB };

/** A fixed-length list of `dim` values of `type`: how vectors are stored. */
export function fixedSizeList(dim: number, type: Arrow.DataType): Arrow.FixedSizeList {
  return new arrow.FixedSizeList(dim, new arrow.Field('item', type, true));
}

/** A column of n fixed-length lists straight from a typed array (no per-number conversion). */
export function fixedSizeData(type: Arrow.FixedSizeList, values: Float32Array | Uint16Array, n: number): Arrow.Data {
  const child = arrow.makeData({ type: type.children[0]!.type, length: values.length, nullCount: 0, data: values } as never);
  return arrow.makeData({ type, length: n, nullCount: 0, child } as never);
}

/** One record batch of n rows from a column per schema field. */
export function tableOf(schema: Arrow.Schema, columns: Record<string, Arrow.Data>, n: number): Arrow.Table {
  const children = schema.fields.map((f) => {
    const d = columns[f.name];
    if (!d) throw new Error(`no data for column ${f.name}`);
    return d;
  });
  const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: n, nullCount: 0, children });
  return new arrow.Table([new arrow.RecordBatch(schema, struct)]);
}

/**
 * A `_rowid` column (unsigned 64-bit: fragment · 2³² + offset) as 32-bit halves, offset then
 * fragment for each row (little-endian), without converting each value to a BigInt.
 */
export function rowIdHalves(col: Arrow.Vector): Uint32Array {
  const out = new Uint32Array(col.length * 2);
  let at = 0;
  for (const d of col.data) {
    const v = d.values as BigUint64Array;
    out.set(new Uint32Array(v.buffer, v.byteOffset + d.offset * 8, d.length * 2), at);
    at += d.length * 2;
  }
  return out;
}
