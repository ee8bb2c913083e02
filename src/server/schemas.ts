/**
 * JSON schemas of the HTTP API: requests are validated against them at the edge (before any
 * handler runs), responses are serialised through them, and the OpenAPI document is built from
 * them. Shared shapes are registered once by $id and referenced from the routes.
 */

import { BASIC_COLOURS, FACT_STAGES } from '../core/facts.js';

/** Item ids are content hashes: hex only, so no id can ever name a path. */
export const ID_PATTERN = '^[0-9a-f]{8,64}$';

const id = { type: 'string', pattern: ID_PATTERN, description: 'item id (content hash, hex)' } as const;
const ids = (description: string) => ({ type: 'array', items: id, maxItems: 100, description }) as const;

const box = { type: 'array', items: { type: 'number' }, minItems: 4, maxItems: 4, description: '[left, top, right, bottom] in pixels' } as const;
const colourShares = {
  type: 'array',
  items: {
    type: 'object',
    required: ['name', 'share'],
    properties: { name: { type: 'string', enum: [...BASIC_COLOURS] }, share: { type: 'number', description: "share of the region's pixels, 0–1" } },
  },
} as const;

export const MAX_K = 500;
export const MAX_OFFSET = 10_000;

/** Space names are model ids (lower-case letters, digits, '.', '-', '_'): never a path. */
export const SPACE_PATTERN = '^[a-z0-9][a-z0-9._-]{0,99}$';

/** The built-in signals a request may weigh (DEFAULT_WEIGHTS' names), with what each reads. */
const SIGNALS: Record<string, string> = {
  visual: 'similarity to the query images and liked items',
  concepts: "words through the image model's visual concepts",
  keywords: 'words in file names and catalogue fields',
  joint: "words through the collection's trained joint text–image model, when it has one",
  clip: 'words through a vision–language model (CLIP), when the index has its space',
  negative: 'how strongly -words, notImage uploads and unlike items push results down',
  composed: 'the composed query (compose), beside the plain signals',
};

const weights = {
  type: 'object',
  additionalProperties: false,
  description: 'relative weight of each signal (default 1 each; 0 switches one off)',
  properties: Object.fromEntries(Object.entries(SIGNALS).map(([n, d]) => [n, { type: 'number', minimum: 0, maximum: 100, description: d }])),
} as const;

/** Fields every search shares (also the querystring of GET …/similar). */
const paging = {
  k: { type: 'integer', minimum: 1, maximum: MAX_K, default: 10, description: 'results wanted' },
  offset: { type: 'integer', minimum: 0, maximum: MAX_OFFSET, default: 0, description: 'results skipped first (paging)' },
  where: {
    type: 'string',
    maxLength: 2000,
    description: 'SQL condition over catalogue columns and object counts, e.g. "category = \'shoes\' AND price < 20", "person_count >= 3"',
  },
  colour: { type: 'string', maxLength: 20, description: 'only images showing this basic colour (red, blue, grey…)' },
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
      imageIds: {
        ...ids('indexed items as query images, compared by their stored features (with excludeSelf they are left out of the results)'),
        maxItems: 4,
      },
      excludeSelf: { type: 'boolean', description: 'leave query images that are themselves indexed (uploads or imageIds) out of the results' },
      persons: {
        type: 'array',
        maxItems: 10,
        items: { type: 'string', minLength: 1, maxLength: 200 },
        description: 'only photos with every one of these persons (names or ids, as /api/people lists them); a "face" upload finds the person in it',
      },
      compose: {
        type: 'object',
        additionalProperties: false,
        required: ['text'],
        description:
          'a composed query: the query images (uploads, imageIds) or liked items changed as the words say ("with a red ball"); ' +
          '-words in it are negative terms. Zero-shot unless trained is true.',
        properties: {
          text: { type: 'string', minLength: 1, maxLength: 1000, description: 'how the results should differ from the reference' },
          weight: { type: 'number', minimum: 0, maximum: 100, description: 'zero-shot: weight of the words against the reference (default 1)' },
          trained: {
            type: 'boolean',
            description: 'through the trained composition model the server was started with (visor serve --compose-model); a 400 when it has none',
          },
        },
      },
      space: {
        type: 'string',
        pattern: SPACE_PATTERN,
        description:
          'compare the uploaded query images in this further embedding space of the index (e.g. clip-vit-b32; see /api/status) instead of the main image features',
      },
      stages: {
        type: 'object',
        additionalProperties: false,
        description: "optional stages (one uploaded query image, nothing else): each needs the collection prepared for it ('visor categorize', 'visor localize')",
        properties: {
          narrow: { type: 'boolean', description: "search the query image's predicted categories first" },
          localize: { type: 'boolean', description: 'compare the objects, not the whole images' },
          rerank: { type: 'boolean', description: 're-rank the top results by silhouette overlap' },
        },
      },
      rerank: {
        type: 'string',
        enum: ['none', 'qe', 'dba', 'diffusion'],
        description: "re-rank with the collection's neighbour graph (docs/reranking.md); default: the collection's (diffusion for image queries)",
      },
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
    $id: 'Facts',
    type: 'object',
    required: ['stages', 'width', 'height'],
    description:
      'What the image shows, found when it was indexed. A stage that ran has its list (maybe empty: looked, found nothing); ' +
      'one that did not run has none. Boxes are [left, top, right, bottom] in the pixels of an image width × height.',
    properties: {
      stages: {
        type: 'object',
        description: 'the stages that ran, with the model or method each used',
        properties: Object.fromEntries(FACT_STAGES.map((st) => [st, { type: 'string' }])),
      },
      width: { type: 'integer' },
      height: { type: 'integer' },
      objects: {
        type: 'array',
        description: 'objects and people found (COCO classes), with the main colours inside each box',
        items: {
          type: 'object',
          required: ['label', 'score', 'box'],
          properties: { label: { type: 'string' }, score: { type: 'number' }, box, colours: colourShares },
        },
      },
      colours: { ...colourShares, description: "the whole image's main colours, largest share first" },
      text: {
        type: 'array',
        description: 'text read in the image, a line or word per box',
        items: {
          type: 'object',
          required: ['text', 'score', 'box'],
          properties: { text: { type: 'string' }, score: { type: 'number', description: 'recognition confidence, 0–1' }, box },
        },
      },
    },
  },
  {
    $id: 'ItemFacts',
    type: 'object',
    required: ['id'],
    properties: {
      id,
      facts: { $ref: 'Facts#' },
      counts: {
        type: 'array',
        description: 'objects per class, most frequent first (when the objects stage ran)',
        items: { type: 'object', required: ['label', 'count'], properties: { label: { type: 'string' }, count: { type: 'integer' } } },
      },
    },
    description: "an item's facts (absent when none of its fact stages has run) and its objects counted per class",
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
      stages: {
        type: 'object',
        additionalProperties: true,
        description: "what the query's stages found out about it (predicted categories, the object found…), by stage; only when stages ran",
      },
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
