/** Columns Visor itself writes; catalogue fields with these names are stored as meta_<name>. */
export const CORE_COLUMNS = [
  'id',
  'path',
  'paths',
  'file_sizes',
  'file_mtimes',
  'vector',
  'probs',
  'img_width',
  'img_height',
  'img_format',
  'indexed_at',
  'meta',
  'search_text',
] as const;

export const CORE_COLUMN_SET: ReadonlySet<string> = new Set<string>(CORE_COLUMNS);

/** Catalogue column names become SQL identifiers: lower case letters, digits, underscores. */
export function metaColumnName(field: string): string {
  let name = field
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (name === '' || /^[0-9]/.test(name)) name = `f_${name}`;
  return CORE_COLUMN_SET.has(name) ? `meta_${name}` : name;
}
