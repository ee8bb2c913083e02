import { Collection } from '../../collection.js';
import { VisorError } from '../../errors.js';
import type { RankedResult, SearchResponse } from '../../search/pipeline.js';
import type { MatchReason } from '../../search/signal.js';
import type { Query } from '../../search/query.js';
import { resolveItemIds, SHORT_ID } from '../ids.js';
import { displayPath, formatMeta, printJson, table } from '../output.js';
import { parseWeights, searchStages, type SearchCommandOptions } from '../search-options.js';

function reason(why: MatchReason): string {
  const parts: string[] = [];
  if (why.visual !== undefined) parts.push(`looks ${why.visual.toFixed(2)}`);
  if (why.keywords) parts.push(`words: ${why.keywords.words.join(', ') || '(stem)'}`);
  for (const c of why.concepts ?? []) parts.push(`${c.concept} ${c.score.toFixed(2)}`);
  if (why.joint !== undefined) parts.push(`text model ${why.joint.toFixed(2)}`);
  if (why.clip !== undefined) parts.push(`clip ${why.clip.toFixed(2)}`);
  if (why.composed !== undefined) parts.push(`composed ${why.composed.toFixed(2)}`);
  if (why.penalised?.length) parts.push(`resembles ${why.penalised.join(', ')}`);
  if (typeof why.iou === 'number') parts.push(`silhouette ${why.iou.toFixed(2)}`);
  const people = why.people as { persons?: Array<{ id: string; name?: string }>; face?: { cosine: number; person?: string; name?: string } } | undefined;
  if (people?.persons) parts.push(`faces of ${people.persons.map((p) => p.name ?? p.id).join(', ')}`);
  if (people?.face) parts.push(`face ${people.face.cosine.toFixed(2)}${people.face.person ? ` (${people.face.name ?? people.face.person})` : ''}`);
  if (typeof why.category === 'string') parts.push(`${why.category}${why.inChosenCategory ? ' (searched first)' : ''}`);
  return parts.join('; ');
}

function printStages(stages: Record<string, unknown> | undefined): void {
  if (!stages) return;
  const categories = stages.categories as Array<{ category: string; probability: number }> | undefined;
  const first = stages.searchedFirst as string[] | undefined;
  if (categories) {
    process.stdout.write(
      `categories: ${categories.map((c) => `${c.category} ${c.probability.toFixed(2)}`).join(', ')}; ` +
        `${first?.length ? `searched first: ${first.join(', ')}` : 'not confident: searched everything'}\n`,
    );
  }
  const object = stages.object as { found: boolean; area: number } | undefined;
  if (object) process.stdout.write(`object: ${object.found ? `found, ${(object.area * 100).toFixed(0)}% of the image` : 'none stands out: whole image used'}\n`);
}

function printResults(r: SearchResponse): void {
  printStages(r.stages);
  if (!r.understood) {
    process.stdout.write(`${r.message}\n`);
    return;
  }
  if (r.results.length === 0) {
    process.stdout.write('No results.\n');
    return;
  }
  const rows = [['#', 'score', 'path', 'id', 'why', 'metadata']];
  for (const x of r.results as RankedResult[]) {
    const dup = x.paths.length > 1 ? ` (+${x.paths.length - 1})` : '';
    const score = r.fusion === 'single' ? x.score.toFixed(3) : x.score.toPrecision(3);
    rows.push([String(x.rank), score, displayPath(x.path) + dup, x.id.slice(0, SHORT_ID), reason(x.why), formatMeta(x.meta, 40)]);
  }
  process.stdout.write(`${table(rows)}\n`);
  for (const s of r.signals.filter((s) => s.note)) process.stderr.write(`note: ${s.name}: ${s.note}\n`);
}

export async function searchCommand(words: string[], o: SearchCommandOptions): Promise<void> {
  const like = [...o.like, ...(o.moreLike ?? [])];
  const unlike = [...o.unlike, ...(o.lessLike ?? [])];
  // --text beside a reference (an image, a liked item) says how to change it: a composed query.
  const composing = o.text !== undefined && o.image.length + like.length > 0;
  if (!composing && (o.composeModel !== undefined || o.composeWeight !== undefined)) {
    throw new VisorError('QUERY_INVALID', '--compose-model and --compose-weight need a composed query: --image (or --like) with --text');
  }
  const plain = [...words, ...(composing || o.text === undefined ? [] : [o.text])].join(' ').trim();
  const query: Query = {
    text: plain || undefined,
    images: o.image,
    notImages: o.notImage,
    like,
    unlike,
    compose: composing ? { text: o.text!, weight: o.composeWeight, model: o.composeModel } : undefined,
    where: o.where,
    colour: o.colour,
    ...(o.person?.length ? { persons: o.person } : {}),
    ...(o.face ? { face: o.face } : {}),
    k: o.k,
    offset: o.offset,
    exact: o.exact,
    excludeSelf: o.excludeSelf,
    weights: parseWeights(o.weights),
    fusion: o.fusion,
    space: o.space,
    stages: searchStages(o),
  };
  const collection = await Collection.open({ db: o.db });
  if (o.textModel) collection.useTextModel(o.textModel);
  try {
    // The table shows ids shortened: --like and --unlike take them so.
    if (like.length + unlike.length > 0) {
      query.like = await resolveItemIds(collection, like);
      query.unlike = await resolveItemIds(collection, unlike);
    }
    const response = await collection.search(query);
    if (o.json) printJson({ query: { ...query, images: o.image, notImages: o.notImage }, ...response });
    else if (response.understood && response.results.length === 0 && (await collection.store.count()) === 0) {
      process.stdout.write(`No results: the index at ${collection.db} is empty; add images with 'visor index <folder>'.\n`);
    } else printResults(response);
  } finally {
    await collection.close();
  }
}
