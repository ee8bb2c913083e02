/**
 * JSON schemas of the HTTP API: requests are validated against them at the edge (before any
 * handler runs), responses are serialised through them, and the OpenAPI document is built from
 * them. Shared shapes are registered once by $id and referenced from the routes.
 */

/** Item ids are content hashes: hex only, so no id can ever name a path. */
export const ID_PATTERN = '^[0-9a-f]{8,64}$';

const id = { type: 'string', pattern: ID_PATTERN, description: 'item id (content hash, hex)' } as const;
const ids = (description: string) => ({ type: 'array', items: id, maxItems: 100, description }) as const;

export const MAX_K = 500;
export const MAX_OFFSET = 10_000;

const weights = {
  type: 'object',
  additionalProperties: false,
  description: 'relative weight of each signal (default 1 each)',
  properties: Object.fromEntries(
    ['visual', 'concepts', 'keywords', 'joint', 'negative'].map((n) => [n, { type: 'number', minimum: 0, maximum: 100 }]),
  ),
} as const;

/** Fields every search shares (also the querystring of GET …/similar). */
const paging = {
  k: { type: 'integer', minimum: 1, maximum: MAX_K, default: 10, description: 'results wanted' },
  offset: { type: 'integer', minimum: 0, maximum: MAX_OFFSET, default: 0, description: 'results skipped first (paging)' },
  where: { type: 'string', maxLength: 2000, description: "SQL condition over catalogue columns, e.g. \"category = 'shoes' AND price < 20\"" },
  exact: { type: 'boolean', description: 'exhaustive search even where an approximate index exists' },
} as const;

export const schemas = [
  {
    $id: 'Error',
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: { code: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
  {
    $id: 'SearchRequest',
    type: 'object',
    additionalProperties: false,
    description:
      'A query: words, items to move towards or away from, filters. Query images are sent as a multipart/form-data ' +
      'upload instead of JSON: file parts "image" (and "notImage"), with this object as the JSON text of a part "query".',
    properties: {
      text: { type: 'string', maxLength: 1000, description: 'words; -word or -"two words" are negative terms' },
      like: ids('indexed items to find more like (relevance feedback)'),
      unlike: ids('indexed items to move away from'),
      ...paging,
      excludeSelf: { type: 'boolean', description: 'leave query images that are themselves indexed out of the results' },
      weights,
      fusion: { type: 'string', enum: ['rrf', 'score'], description: 'how signals combine' },
    },
  },
  {
    $id: 'Item',
    type: 'object',
    required: ['id', 'path', 'paths', 'width', 'height', 'format', 'meta'],
    properties: {
      id,
      path: { type: 'string', description: 'the first path the content was found at (informational: files are served by id)' },
      paths: { type: 'array', items: { type: 'string' } },
      width: { type: 'integer' },
      height: { type: 'integer' },
      format: { type: 'string' },
      meta: { type: 'object', additionalProperties: { type: ['string', 'number', 'null'] }, description: 'catalogue fields' },
      indexedAt: { type: 'number' },
    },
  },
  {
    $id: 'Result',
    type: 'object',
    required: ['rank', 'id', 'score', 'path', 'paths', 'width', 'height', 'format', 'meta'],
    properties: {
      rank: { type: 'integer' },
      id,
      score: { type: 'number' },
      path: { type: 'string' },
      paths: { type: 'array', items: { type: 'string' } },
      width: { type: 'integer' },
      height: { type: 'integer' },
      format: { type: 'string' },
      meta: { type: 'object', additionalProperties: { type: ['string', 'number', 'null'] } },
      why: { type: 'object', additionalProperties: true, description: 'per signal, why the item matched (visual, keywords, concepts, joint, penalised)' },
    },
  },
  {
    $id: 'SearchResponse',
    type: 'object',
    required: ['results', 'understood', 'signals', 'fusion'],
    properties: {
      results: { type: 'array', items: { $ref: 'Result#' } },
      understood: { type: 'boolean', description: 'false when nothing could make sense of the query; message says why' },
      message: { type: 'string' },
      signals: {
        type: 'array',
        items: {
          type: 'object',
          properties: { name: { type: 'string' }, understood: { type: 'boolean' }, note: { type: 'string' } },
        },
      },
      fusion: { type: 'string' },
    },
  },
] as const;

export const ref = (name: string) => ({ $ref: `${name}#` }) as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id },
} as const;

export const similarQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { ...paging, excludeSelf: { type: 'boolean', description: 'leave the item itself out' } },
} as const;

/** Error responses a route may give, for the OpenAPI document. */
export function errors(...codes: number[]): Record<number, unknown> {
  return Object.fromEntries(codes.map((c) => [c, ref('Error')]));
}
