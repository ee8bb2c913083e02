import type { ConceptSpace } from './concept-space.js';

/** CLIP's learnt logit scale: the softmax temperature of its image–text cosines. */
const LOGIT_SCALE = 100;
const BATCH = 64;

interface TextTower {
  encodeText(texts: readonly string[]): Promise<Float32Array>;
}

const prompts = new WeakMap<TextTower, Map<ConceptSpace, Promise<Float32Array>>>();

/** Each class of the concept vocabulary as a text embedding ("a photo of a golden retriever."), made once per model. */
function classEmbeddings(space: ConceptSpace, tower: TextTower): Promise<Float32Array> {
  let bySpace = prompts.get(tower);
  if (!bySpace) prompts.set(tower, (bySpace = new Map()));
  let p = bySpace.get(space);
  if (!p) {
    p = (async () => {
      const texts = space.classSynsets.map((s) => `a photo of a ${s.lemmas[0]}.`);
      const parts: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += BATCH) parts.push(await tower.encodeText(texts.slice(i, i + BATCH)));
      const out = new Float32Array(parts.reduce((a, x) => a + x.length, 0));
      let at = 0;
      for (const x of parts) {
        out.set(x, at);
        at += x.length;
      }
      return out;
    })();
    bySpace.set(space, p);
    p.catch(() => bySpace.delete(space));
  }
  return p;
}

/**
 * Class probabilities for an image from a vision–language model with no classifier: its image
 * embedding scored against the text embedding of every class name (zero-shot classification,
 * as CLIP does it), so the concept vocabulary and the tagger read it as they read a classifier's.
 */
export async function vocabularyProbabilities(space: ConceptSpace, image: Float32Array, tower: TextTower): Promise<Float32Array> {
  const classes = await classEmbeddings(space, tower);
  const n = space.classSynsets.length;
  const dim = image.length;
  const logits = new Float64Array(n);
  let max = -Infinity;
  for (let c = 0; c < n; c++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += image[j]! * classes[c * dim + j]!;
    logits[c] = LOGIT_SCALE * s;
    if (logits[c]! > max) max = logits[c]!;
  }
  let total = 0;
  for (let c = 0; c < n; c++) total += logits[c] = Math.exp(logits[c]! - max);
  return Float32Array.from(logits, (x) => x / total);
}
