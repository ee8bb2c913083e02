import { CORE_COLUMNS } from '../columns.js';
import { arrow, fixedSizeList, type Arrow } from './arrow.js';

/** The items table: one row per unique image content. */
export const ITEMS_TABLE = 'items';

/** Every core column but the vectors and the keyword text (no record shows it): what item records are read from. */
export const SUMMARY_COLUMNS = CORE_COLUMNS.filter((c) => c !== 'vector' && c !== 'probs' && c !== 'search_text');

/**
 * The items table of a new index. An image model without a classifier (numClasses 0, e.g. a
 * CLIP model as the main one) gets no `probs` column at all.
 */
export function coreSchema(dim: number, classes: number): Arrow.Schema {
  const list = (t: Arrow.DataType) => new arrow.List(new arrow.Field('item', t, true));
  return new arrow.Schema([
    new arrow.Field('id', new arrow.Utf8(), false),
    new arrow.Field('path', new arrow.Utf8(), false),
    new arrow.Field('paths', list(new arrow.Utf8()), false),
    new arrow.Field('file_sizes', list(new arrow.Float64()), false),
    new arrow.Field('file_mtimes', list(new arrow.Float64()), false),
    new arrow.Field('vector', fixedSizeList(dim, new arrow.Float32()), false),
    // Half precision halves the largest column; probabilities need no more.
    ...(classes > 0 ? [new arrow.Field('probs', fixedSizeList(classes, new arrow.Float16()), false)] : []),
    new arrow.Field('img_width', new arrow.Int32(), false),
    new arrow.Field('img_height', new arrow.Int32(), false),
    new arrow.Field('img_format', new arrow.Utf8(), false),
    new arrow.Field('indexed_at', new arrow.Float64(), false),
    new arrow.Field('meta', new arrow.Utf8(), false),
    new arrow.Field('search_text', new arrow.Utf8(), true),
  ]);
}
