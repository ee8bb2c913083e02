import fs from 'node:fs';
import path from 'node:path';
import { VisorError } from '../../../src/errors.js';
import type { FusionKind, ImageEncoderKind } from '../../../src/compose/network.js';
import { displayPath, prepareOutFile, printJson, table } from '../../../src/cli/output.js';
import { createProgress, type ProgressMode } from '../../../src/cli/progress.js';
import type { GlobalOptions } from '../../../src/cli/run.js';

export interface TrainComposeOptions extends GlobalOptions {
  triplets: string;
  images?: string;
  out: string;
  fusion: FusionKind;
  encoder: ImageEncoderKind;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  progress: ProgressMode;
}

export const FUSIONS = ['tirg', 'concat'] as const;
export const ENCODERS = ['cnn', 'mobilenet-pooled', 'mobilenet-spatial'] as const;

/** `visor-lab train compose`: trains a composition model on a triplets file and saves it. */
export async function trainComposeCommand(o: TrainComposeOptions): Promise<void> {
  if (!fs.existsSync(o.triplets)) throw new VisorError('CATALOGUE_INVALID', `no triplets file at ${o.triplets}`);
  const images = o.images ?? path.dirname(path.resolve(o.triplets));
  if (!fs.statSync(images, { throwIfNoEntry: false })?.isDirectory()) throw new VisorError('QUERY_INVALID', `--images ${images} is not a folder`);
  prepareOutFile(o.out); // before training, not after it
  const { readTriplets } = await import('../../train/compose/triplets.js');
  const { trainComposition } = await import('../../train/compose/train-composition.js');
  const triplets = readTriplets(o.triplets, images);
  const preparing = createProgress(o.progress);
  const training = createProgress(o.progress, 'steps');
  const model = await trainComposition(triplets, {
    fusion: o.fusion,
    encoder: o.encoder,
    epochs: o.epochs,
    batchSize: o.batchSize,
    learningRate: o.lr,
    seed: o.seed,
    onProgress: (p) => {
      if (p.phase === 'images') return preparing.update({ phase: 'images', done: p.done, total: p.total });
      preparing.stop();
      training.update({ phase: `epoch ${p.epoch}`, done: p.done, total: p.total, detail: { loss: Number((p.loss ?? 0).toFixed(4)) } });
    },
  });
  preparing.stop();
  training.stop();
  model.save(o.out);
  const t = model.training;
  const summary = {
    out: path.resolve(o.out),
    fusion: model.config.fusion,
    encoder: model.config.image.kind,
    dimension: model.dim,
    vocabulary: model.vocabulary.features.length,
    triplets: t.triplets,
    images: t.images,
    epochs: t.epochs,
    finalLoss: t.log.at(-1)?.loss ?? null,
    seconds: t.seconds,
  };
  model.dispose();
  if (o.json) return printJson(summary);
  process.stdout.write(
    `${table([
      ['saved', displayPath(summary.out)],
      ['model', `${summary.encoder} image encoder, ${summary.fusion} fusion, ${summary.dimension}-d`],
      ['data', `${summary.triplets} triplets, ${summary.images} images, ${summary.vocabulary} text features`],
      ['training', `${summary.epochs} epochs, final loss ${summary.finalLoss?.toFixed(4)}, ${summary.seconds.toFixed(1)} s`],
    ])}\n`,
  );
}
