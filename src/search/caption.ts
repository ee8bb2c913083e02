import fs from 'node:fs';
import { VisorError } from '../errors.js';
import { JointModel } from '../models/joint-model.js';
import { loadImageEncoder } from '../models/load-encoder.js';
import type { ImageEncoder } from '../models/types.js';
import { encodeImage } from './encode-image.js';

export interface CaptionResult {
  rank: number;
  score: number;
  caption: string;
}

/**
 * Image → text: ranks a corpus of captions for one photo in the joint space. The photo is
 * decoded and embedded exactly as the indexer would, then projected by the joint model.
 */
export async function captionImage(
  image: string | Buffer,
  corpus: readonly string[],
  opts: { textModel: string | JointModel; k?: number; encoder?: ImageEncoder },
): Promise<CaptionResult[]> {
  const model = typeof opts.textModel === 'string' ? await JointModel.load(opts.textModel) : opts.textModel;
  let bytes: Buffer;
  try {
    bytes = typeof image === 'string' ? fs.readFileSync(image) : image;
  } catch (e) {
    throw new VisorError('IMAGE_UNREADABLE', `cannot read ${String(image)}: ${(e as Error).message}`, { cause: e });
  }
  // The image model whose features the joint model reads (the collection's, when it gives one).
  const encoder = opts.encoder ?? (await loadImageEncoder({ id: model.imageModel, threads: 1 }));
  try {
    const q = await encodeImage(encoder, bytes);
    const im = model.encodeImages(q.vector, q.probs, 1);
    const text = model.encodeText(corpus);
    const scores = model.score(text, im);
    // Querybank normalisation: captions close to every image are lowered (zeros without a bank).
    const bias = model.textBias(text, corpus.length);
    for (let i = 0; i < scores.length; i++) scores[i]! += bias[i]!;
    const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]!);
    return order.slice(0, opts.k ?? 5).map((i, r) => ({ rank: r + 1, score: scores[i]!, caption: corpus[i]! }));
  } finally {
    if (!opts.encoder) await encoder.close();
    if (typeof opts.textModel === 'string') model.close();
  }
}
