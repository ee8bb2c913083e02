import { createRequire } from 'node:module';
import type * as LanceDB from '@lancedb/lancedb';
import type * as Arrow from 'apache-arrow';
import type { Box } from '../localize/mask.js';
import type { LanceStore } from '../store/lance-store.js';

// The CommonJS copy of Arrow, the one LanceDB itself loads (see lance-store.ts).
const require = createRequire(import.meta.url);
const arrow = require('apache-arrow') as typeof Arrow;

/**
 * Per-item results of the optional domain stages, in two side tables of the index's own
 * LanceDB folder, keyed by item id (the items table is untouched, so indexes made before,
 * or without these stages, open and search as they did):
 * - `objects`: localisation — the object's features (from the object alone on a neutral
 *   background), its box-aligned silhouette (128 bytes) and box, and the method used;
 * - `categories`: the category each item was given — predicted, or from its catalogue — with
 *   the confidence and the predictor's id.
 * Rows of items since removed are ignored when read and pruned when a stage next runs.
 */
export const OBJECTS_TABLE = 'objects';
export const CATEGORIES_TABLE = 'categories';

export interface ObjectRow {
  id: string;
  /** L2-normalised features of the object alone (the whole image's when none was found). */
  vector: Float32Array;
  found: boolean;
  /** Box-aligned silhouette bits (see localize/mask.ts). */
  mask: Uint8Array;
  box: Box;
  area: number;
  method: string;
}

export interface CategoryRow {
  id: string;
  category: string;
  confidence: number;
  source: 'predicted' | 'catalogue';
  predictor: string;
}

function objectsSchema(dim: number): Arrow.Schema {
  return new arrow.Schema([
    new arrow.Field('id', new arrow.Utf8(), false),
    new arrow.Field('vector', new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float32(), true)), false),
    new arrow.Field('found', new arrow.Bool(), false),
    new arrow.Field('mask', new arrow.Binary(), false),
    new arrow.Field('box', new arrow.FixedSizeList(4, new arrow.Field('item', new arrow.Float32(), true)), false),
    new arrow.Field('area', new arrow.Float32(), false),
    new arrow.Field('method', new arrow.Utf8(), false),
  ]);
}

function categoriesSchema(): Arrow.Schema {
  return new arrow.Schema([
    new arrow.Field('id', new arrow.Utf8(), false),
    new arrow.Field('category', new arrow.Utf8(), false),
    new arrow.Field('confidence', new arrow.Float32(), false),
    new arrow.Field('source', new arrow.Utf8(), false),
    new arrow.Field('predictor', new arrow.Utf8(), false),
  ]);
}

function fixedList(type: Arrow.FixedSizeList, values: Float32Array, n: number): Arrow.Data {
  const child = arrow.makeData({ type: type.children[0]!.type, length: values.length, nullCount: 0, data: values } as never);
  return arrow.makeData({ type, length: n, nullCount: 0, child } as never);
}

function tableOf(schema: Arrow.Schema, columns: Record<string, Arrow.Data>, n: number): Arrow.Table {
  const children = schema.fields.map((f) => columns[f.name]!);
  const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: n, nullCount: 0, children });
  return new arrow.Table([new arrow.RecordBatch(schema, struct)]);
}

/** In-memory view of the objects table, row i belonging to ids[i]. */
export interface ObjectsView {
  ids: string[];
  vectors: Float32Array;
  found: Uint8Array;
  /** Concatenated silhouettes, maskBytes each. */
  masks: Uint8Array;
  maskBytes: number;
  boxes: Float32Array;
  methods: string[];
}

export class SideTables {
  private constructor(
    private readonly store: LanceStore,
    private objects: LanceDB.Table | null,
    private categories: LanceDB.Table | null,
  ) {}

  /** Opens whichever side tables exist; none is created until something is written. */
  static async open(store: LanceStore): Promise<SideTables> {
    const objects = (await store.hasSideTable(OBJECTS_TABLE)) ? await store.sideTable(OBJECTS_TABLE, objectsSchema(store.dimension)) : null;
    const categories = (await store.hasSideTable(CATEGORIES_TABLE)) ? await store.sideTable(CATEGORIES_TABLE, categoriesSchema()) : null;
    return new SideTables(store, objects, categories);
  }

  /** Table versions (0 when absent): cached views are rebuilt when these change. */
  async versions(): Promise<{ objects: number; categories: number }> {
    return { objects: (await this.objects?.version()) ?? 0, categories: (await this.categories?.version()) ?? 0 };
  }

  private async objectsTable(): Promise<LanceDB.Table> {
    this.objects ??= await this.store.sideTable(OBJECTS_TABLE, objectsSchema(this.store.dimension));
    return this.objects;
  }

  private async categoriesTable(): Promise<LanceDB.Table> {
    this.categories ??= await this.store.sideTable(CATEGORIES_TABLE, categoriesSchema());
    return this.categories;
  }

  /** Item id → localisation method, for every localised item. */
  async objectMethods(): Promise<Map<string, string>> {
    if (!this.objects) return new Map();
    const rows = await this.objects.query().select(['id', 'method']).toArray();
    return new Map(rows.map((r) => [String(r.id), String(r.method)]));
  }

  /** Item id → predictor id, for every categorised item. */
  async categoryPredictors(): Promise<Map<string, string>> {
    if (!this.categories) return new Map();
    const rows = await this.categories.query().select(['id', 'predictor']).toArray();
    return new Map(rows.map((r) => [String(r.id), String(r.predictor)]));
  }

  async writeObjects(rows: readonly ObjectRow[]): Promise<void> {
    if (rows.length === 0) return;
    const table = await this.objectsTable();
    const schema = objectsSchema(this.store.dimension);
    const n = rows.length;
    const dim = this.store.dimension;
    const vectors = new Float32Array(n * dim);
    const boxes = new Float32Array(n * 4);
    rows.forEach((r, i) => {
      vectors.set(r.vector, i * dim);
      boxes.set([r.box.x0, r.box.y0, r.box.x1, r.box.y1], i * 4);
    });
    const col = (name: string, values: unknown[]) => arrow.vectorFromArray(values, schema.fields.find((f) => f.name === name)!.type).data[0]!;
    const data = tableOf(
      schema,
      {
        id: col('id', rows.map((r) => r.id)),
        vector: fixedList(schema.fields[1]!.type as Arrow.FixedSizeList, vectors, n),
        found: col('found', rows.map((r) => r.found)),
        mask: col('mask', rows.map((r) => r.mask)),
        box: fixedList(schema.fields[4]!.type as Arrow.FixedSizeList, boxes, n),
        area: col('area', rows.map((r) => r.area)),
        method: col('method', rows.map((r) => r.method)),
      },
      n,
    );
    await table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data);
  }

  async writeCategories(rows: readonly CategoryRow[]): Promise<void> {
    if (rows.length === 0) return;
    const table = await this.categoriesTable();
    const schema = categoriesSchema();
    const col = (name: string, values: unknown[]) => arrow.vectorFromArray(values, schema.fields.find((f) => f.name === name)!.type).data[0]!;
    const data = tableOf(
      schema,
      {
        id: col('id', rows.map((r) => r.id)),
        category: col('category', rows.map((r) => r.category)),
        confidence: col('confidence', rows.map((r) => r.confidence)),
        source: col('source', rows.map((r) => r.source)),
        predictor: col('predictor', rows.map((r) => r.predictor)),
      },
      rows.length,
    );
    await table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data);
  }

  /** Every localised item, column by column. */
  async readObjects(): Promise<ObjectsView> {
    const dim = this.store.dimension;
    const view: ObjectsView = { ids: [], vectors: new Float32Array(0), found: new Uint8Array(0), masks: new Uint8Array(0), maskBytes: 0, boxes: new Float32Array(0), methods: [] };
    if (!this.objects) return view;
    const tbl = (await this.objects.query().toArrow()) as unknown as Arrow.Table;
    const n = tbl.numRows;
    view.vectors = new Float32Array(n * dim);
    view.found = new Uint8Array(n);
    view.boxes = new Float32Array(n * 4);
    const masks: Uint8Array[] = [];
    for (const batch of tbl.batches) {
      const ids = batch.getChild('id')!;
      const vec = batch.getChild('vector')!;
      const found = batch.getChild('found')!;
      const mask = batch.getChild('mask')!;
      const box = batch.getChild('box')!;
      const method = batch.getChild('method')!;
      for (let r = 0; r < batch.numRows; r++) {
        const i = view.ids.length;
        view.ids.push(String(ids.get(r)));
        view.vectors.set((vec.get(r) as Arrow.Vector).toArray() as Float32Array, i * dim);
        view.found[i] = found.get(r) ? 1 : 0;
        masks.push(mask.get(r) as Uint8Array);
        view.boxes.set((box.get(r) as Arrow.Vector).toArray() as Float32Array, i * 4);
        view.methods.push(String(method.get(r)));
      }
    }
    view.maskBytes = masks[0]?.length ?? 0;
    view.masks = new Uint8Array(n * view.maskBytes);
    masks.forEach((m, i) => view.masks.set(m.subarray(0, view.maskBytes), i * view.maskBytes));
    return view;
  }

  async readCategories(): Promise<Map<string, Omit<CategoryRow, 'id'>>> {
    if (!this.categories) return new Map();
    const rows = await this.categories.query().toArray();
    return new Map(
      rows.map((r) => [
        String(r.id),
        { category: String(r.category), confidence: Number(r.confidence), source: String(r.source) as CategoryRow['source'], predictor: String(r.predictor) },
      ]),
    );
  }

  /** Forgets rows of items no longer in the index. */
  async prune(live: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    for (const table of [this.objects, this.categories]) {
      if (!table) continue;
      const ids = (await table.query().select(['id']).toArray()).map((r) => String(r.id)).filter((id) => !live.has(id));
      for (let i = 0; i < ids.length; i += 500) {
        await table.delete(`id IN (${ids.slice(i, i + 500).map((id) => `'${id}'`).join(', ')})`);
      }
      removed += ids.length;
    }
    return removed;
  }

  close(): void {
    this.objects?.close();
    this.categories?.close();
    this.objects = null;
    this.categories = null;
  }
}
