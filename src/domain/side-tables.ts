import type { Box } from '../localize/mask.js';
import type { SideTable, VectorStore } from '../store/port.js';
import type { SideSchema } from '../store/types.js';

/**
 * Per-item results of the optional domain stages, in two side tables of the index (for
 * LanceDB, tables of its own folder), keyed by item id (the items table is untouched, so indexes made before,
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

function objectsSchema(dim: number) {
  return {
    vector: { vector: dim },
    found: 'bool',
    mask: 'bytes',
    box: { vector: 4 },
    area: 'float32',
    method: 'string',
  } as const satisfies SideSchema;
}

const CATEGORIES_SCHEMA = {
  category: 'string',
  confidence: 'float32',
  source: 'string',
  predictor: 'string',
} as const satisfies SideSchema;

type ObjectsTable = SideTable<ReturnType<typeof objectsSchema>>;
type CategoriesTable = SideTable<typeof CATEGORIES_SCHEMA>;

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
    private readonly store: Pick<VectorStore, 'dimension' | 'sideTable'>,
    private objects: ObjectsTable | null,
    private categories: CategoriesTable | null,
  ) {}

  /** Opens whichever side tables exist; none is created until something is written. */
  static async open(store: Pick<VectorStore, 'dimension' | 'sideTable' | 'hasSideTable'>): Promise<SideTables> {
    const objects = (await store.hasSideTable(OBJECTS_TABLE)) ? await store.sideTable(OBJECTS_TABLE, objectsSchema(store.dimension)) : null;
    const categories = (await store.hasSideTable(CATEGORIES_TABLE)) ? await store.sideTable(CATEGORIES_TABLE, CATEGORIES_SCHEMA) : null;
    return new SideTables(store, objects, categories);
  }

  /** Table versions (0 when absent): cached views are rebuilt when these change. */
  async versions(): Promise<{ objects: number; categories: number }> {
    return { objects: (await this.objects?.version()) ?? 0, categories: (await this.categories?.version()) ?? 0 };
  }

  private async objectsTable(): Promise<ObjectsTable> {
    this.objects ??= await this.store.sideTable(OBJECTS_TABLE, objectsSchema(this.store.dimension));
    return this.objects;
  }

  private async categoriesTable(): Promise<CategoriesTable> {
    this.categories ??= await this.store.sideTable(CATEGORIES_TABLE, CATEGORIES_SCHEMA);
    return this.categories;
  }

  /** Item id → localisation method, for every localised item. */
  async objectMethods(): Promise<Map<string, string>> {
    if (!this.objects) return new Map();
    const { ids, method } = await this.objects.read(['method']);
    return new Map(ids.map((id, i) => [id, method[i]!]));
  }

  /** Item id → predictor id, for every categorised item. */
  async categoryPredictors(): Promise<Map<string, string>> {
    if (!this.categories) return new Map();
    const { ids, predictor } = await this.categories.read(['predictor']);
    return new Map(ids.map((id, i) => [id, predictor[i]!]));
  }

  async writeObjects(rows: readonly ObjectRow[]): Promise<void> {
    if (rows.length === 0) return;
    const table = await this.objectsTable();
    await table.put(
      rows.map((r) => ({
        id: r.id,
        vector: r.vector,
        found: r.found,
        mask: r.mask,
        box: Float32Array.of(r.box.x0, r.box.y0, r.box.x1, r.box.y1),
        area: r.area,
        method: r.method,
      })),
    );
  }

  async writeCategories(rows: readonly CategoryRow[]): Promise<void> {
    if (rows.length === 0) return;
    const table = await this.categoriesTable();
    await table.put(rows.map((r) => ({ id: r.id, category: r.category, confidence: r.confidence, source: r.source, predictor: r.predictor })));
  }

  /** Every localised item, column by column. */
  async readObjects(): Promise<ObjectsView> {
    const view: ObjectsView = {
      ids: [],
      vectors: new Float32Array(0),
      found: new Uint8Array(0),
      masks: new Uint8Array(0),
      maskBytes: 0,
      boxes: new Float32Array(0),
      methods: [],
    };
    if (!this.objects) return view;
    const t = await this.objects.read(['vector', 'found', 'mask', 'box', 'method']);
    const n = t.ids.length;
    view.ids = t.ids;
    view.vectors = t.vector;
    view.found = t.found;
    view.boxes = t.box;
    view.methods = t.method;
    view.maskBytes = t.mask[0]?.length ?? 0;
    view.masks = new Uint8Array(n * view.maskBytes);
    t.mask.forEach((m, i) => view.masks.set(m.subarray(0, view.maskBytes), i * view.maskBytes));
    return view;
  }

  async readCategories(): Promise<Map<string, Omit<CategoryRow, 'id'>>> {
    if (!this.categories) return new Map();
    const t = await this.categories.read(['category', 'confidence', 'source', 'predictor']);
    return new Map(
      t.ids.map((id, i) => [
        id,
        { category: t.category[i]!, confidence: t.confidence[i]!, source: t.source[i] as CategoryRow['source'], predictor: t.predictor[i]! },
      ]),
    );
  }

  /** Forgets rows of items no longer in the index. */
  async prune(live: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    for (const table of [this.objects, this.categories] as Array<SideTable<SideSchema> | null>) {
      if (!table) continue;
      const ids = (await table.read([])).ids.filter((id) => !live.has(id));
      await table.delete(ids);
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
