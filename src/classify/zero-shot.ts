import { IMAGENET_WN31, loadConceptSpace, type ConceptSpace } from '../concepts/concept-space.js';
import { VisorError } from '../errors.js';
import type { CategoryPredictor } from './category-classifier.js';
import type { FeatureRows } from './features.js';

/**
 * The zero-shot category predictor, for collections with no labels to train on: each category
 * name is read as a WordNet noun, which covers the ImageNet classes below it in the concept
 * space ("automobile" → cab, convertible, sports car…; a name covering no class falls back to
 * its nearest ancestor that does, "deer" → ruminant). A category's score is the image model's
 * probability mass on its classes; the scores, normalised, are the prediction.
 *
 * Limits: only as good as ImageNet's classes are for the categories (packaging types are barely
 * in it: "lotion" and "perfume" are, "jar" is not), and a name's most frequent sense is used.
 */
export class ZeroShotPredictor implements CategoryPredictor {
  private constructor(
    readonly id: string,
    readonly categories: readonly string[],
    /** ImageNet class indices covered by each category. */
    readonly classes: readonly (readonly number[])[],
  ) {}

  static async create(categories: readonly string[], opts: { space?: ConceptSpace; wordnetDir?: string } = {}): Promise<ZeroShotPredictor> {
    if (categories.length < 2) throw new VisorError('QUERY_INVALID', `zero-shot categorisation needs at least two category names; got ${categories.length}`);
    const space =
      opts.space ??
      (await loadConceptSpace(
        IMAGENET_WN31.map((e) => ({ wnid: e.wnid30 })),
        { wordnetDir: opts.wordnetDir },
      ));
    const missing: string[] = [];
    const classes = categories.map((name) => {
      const lemma = name.trim().toLowerCase().replace(/[_-]+/g, ' ');
      // Senses come most frequent first; the first that covers any class stands for the name.
      const best = space.coverage(lemma)[0];
      if (!best) missing.push(name);
      return best?.classes ?? [];
    });
    if (missing.length > 0) {
      throw new VisorError(
        'QUERY_INVALID',
        `no ImageNet class is known under ${missing.map((m) => JSON.stringify(m)).join(', ')}: rename, or train a classifier instead`,
      );
    }
    const id = `zero-shot:${categories.join('|')}`;
    return new ZeroShotPredictor(id, categories, classes);
  }

  predict(rows: FeatureRows): Float32Array {
    const k = this.categories.length;
    const pd = rows.count > 0 ? rows.probs.length / rows.count : 0;
    const out = new Float32Array(rows.count * k);
    for (let i = 0; i < rows.count; i++) {
      let total = 0;
      for (let c = 0; c < k; c++) {
        let s = 1e-6; // a floor: an image with no mass anywhere gets a flat prediction
        for (const j of this.classes[c]!) s += rows.probs[i * pd + j]!;
        out[i * k + c] = s;
        total += s;
      }
      for (let c = 0; c < k; c++) out[i * k + c]! /= total;
    }
    return out;
  }
}
