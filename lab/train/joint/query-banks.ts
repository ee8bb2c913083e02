import { takeRows } from '../classify/cross-validate.js';
import { crossModalReport, type CrossModalMetrics, type CrossModalReport } from '../../eval/cross-modal.js';
import type { JointModel } from '../../../src/models/joint-model.js';
import { evenSample, hubnessBias } from '../../../src/models/query-bank.js';
import type { TrainSplit } from './trainer.js';

/** Training queries kept in a model file per side: 1,024 rows of the model's dimension (8 MB of float32 at 2,048-d). */
export const BANK_ROWS = 1024;
/**
 * The temperatures dev chose for the Flickr8k recipe (`train joint --flickr8k`: text→image 15,
 * image→text 15), used as they are when the final model is fitted on train and dev together.
 */
export const FLICKR8K_BANK_BETAS = { text: 15, image: 15 };

/** Temperatures tried on dev; 0 (no normalisation) is kept when nothing beats it. */
export const BANK_BETAS = [0, 5, 10, 15, 20, 30];

export interface QueryBanks {
  header: { text: { beta: number }; image: { beta: number } };
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  /** Dev figures with the chosen temperatures (t→i with the text bank, i→t with the image bank). */
  dev: CrossModalReport;
  /** Dev R-sum of each direction per β tried, for the record. */
  tried: Array<{ beta: number; textToImage: number; imageToText: number }>;
}

const rsum = (m: { r1: number; r5: number; r10: number }) => m.r1 + m.r5 + m.r10;

/** The banks themselves: an even sample of the training captions and of the training images, projected by the model. */
export function queryBankTensors(model: JointModel, train: TrainSplit): Map<string, { shape: number[]; data: Float32Array }> {
  const D = model.dimension;
  const captions = evenSample(train.set.captions.length, BANK_ROWS).map((i) => train.set.captions[i]!);
  const imageRows = evenSample(train.features.count, BANK_ROWS);
  const f = train.features;
  const textBank = model.encodeText(captions);
  const imageBank = model.encodeImages(
    takeRows(f.features, f.featureDim, imageRows),
    model.usesProbs ? takeRows(f.probs, f.numClasses, imageRows) : undefined,
    imageRows.length,
  );
  return new Map([
    ['bank.text', { shape: [captions.length, D], data: textBank }],
    ['bank.image', { shape: [imageRows.length, D], data: imageBank }],
  ]);
}

/**
 * Query banks for querybank normalisation (src/models/query-bank.ts): an even sample of the
 * training captions and of the training images, projected by the trained model; each side's β
 * chosen on the dev split by that direction's R-sum.
 */
export function buildQueryBanks(model: JointModel, train: TrainSplit, dev: TrainSplit): QueryBanks {
  const D = model.dimension;
  const cosines = (b: Float32Array, g: Float32Array) => model.score(b, g);
  const tensors = queryBankTensors(model, train);
  const textBank = tensors.get('bank.text')!.data;
  const imageBank = tensors.get('bank.image')!.data;
  const textRows = textBank.length / D;
  const imageRows = imageBank.length / D;

  const df = dev.features;
  const n = df.count;
  const nc = dev.set.captions.length;
  const images = model.encodeImages(df.features, model.usesProbs ? df.probs : undefined, n);
  const captionVectors = model.encodeText(dev.set.captions);
  const scores = model.score(captionVectors, images); // captions × images
  const tried: QueryBanks['tried'] = [];
  let text: { beta: number; metrics: CrossModalMetrics } | null = null;
  let image: { beta: number; metrics: CrossModalMetrics } | null = null;
  const withBias = new Float32Array(scores.length);
  for (const beta of BANK_BETAS) {
    const ib = hubnessBias({ vectors: textBank, rows: textRows, beta }, images, n, D, cosines);
    for (let c = 0; c < nc; c++) for (let i = 0; i < n; i++) withBias[c * n + i] = scores[c * n + i]! + ib[i]!;
    const t2i = crossModalReport(withBias, dev.set.captionImage, n).textToImage;
    const tb = hubnessBias({ vectors: imageBank, rows: imageRows, beta }, captionVectors, nc, D, cosines);
    for (let c = 0; c < nc; c++) for (let i = 0; i < n; i++) withBias[c * n + i] = scores[c * n + i]! + tb[c]!;
    const i2t = crossModalReport(withBias, dev.set.captionImage, n).imageToText;
    tried.push({ beta, textToImage: rsum(t2i), imageToText: rsum(i2t) });
    if (!text || rsum(t2i) > rsum(text.metrics)) text = { beta, metrics: t2i };
    if (!image || rsum(i2t) > rsum(image.metrics)) image = { beta, metrics: i2t };
  }
  const chosen = { textToImage: text!.metrics, imageToText: image!.metrics, rsum: rsum(text!.metrics) + rsum(image!.metrics) };
  return { header: { text: { beta: text!.beta }, image: { beta: image!.beta } }, tensors, dev: chosen, tried };
}
