import { loadFlickr8k } from '../../eval/datasets.js';
import { pairedSet, readCaptionsCsv, type PairedSet } from './data.js';
import { extractImageFeatures, type ExtractStats } from './features.js';
import { saveJoint, checkpointWriter } from './checkpoint.js';
import { trainJoint, type JointTrainConfig, type TrainedJoint, type TrainHooks, type TrainSplit } from './trainer.js';

export interface JointTrainingJob {
  /** Training pairs: a captions CSV (and its images folder), or a Flickr8k split by name. */
  train: { captions: string; images?: string } | { flickr8k: 'train' };
  dev?: { captions: string; images?: string } | { flickr8k: 'dev' };
  out: string;
  config?: Partial<JointTrainConfig>;
  /** Feature cache root (default: under the user cache dir). */
  featureCache?: string;
  onFeatures?: (split: string, done: number, total: number) => void;
  hooks?: TrainHooks;
}

export interface JointTrainingSummary {
  out: string;
  sha256: string;
  trained: TrainedJoint;
  pairs: { train: number; dev: number };
  features: Record<string, ExtractStats>;
  seconds: { features: number; training: number };
}

function loadPairs(src: JointTrainingJob['train'] | NonNullable<JointTrainingJob['dev']>): PairedSet {
  return 'flickr8k' in src ? pairedSet(loadFlickr8k(src.flickr8k).images) : pairedSet(readCaptionsCsv(src.captions, src.images));
}

/**
 * The whole `visor train joint` job: read captions, extract (or reuse cached) image features,
 * train with checkpoints, save the model. Feature extraction and training are timed apart.
 */
export async function runJointTraining(job: JointTrainingJob): Promise<JointTrainingSummary> {
  const trainSet = loadPairs(job.train);
  const devSet = job.dev ? loadPairs(job.dev) : null;
  const flip = job.config?.flip ?? true;
  const stats: Record<string, ExtractStats> = {};
  const extract = async (name: string, set: PairedSet, mirrored: boolean) => {
    const f = await extractImageFeatures(set.images, { cacheDir: job.featureCache, flip: mirrored, onProgress: (d, t) => job.onFeatures?.(name, d, t) });
    stats[name] = f.stats;
    return f;
  };
  const f0 = performance.now();
  const train: TrainSplit = { set: trainSet, features: await extract('train', trainSet, false) };
  if (flip) train.flipped = await extract('train (mirrored)', trainSet, true);
  const dev: TrainSplit | null = devSet ? { set: devSet, features: await extract('dev', devSet, false) } : null;
  const featureSeconds = (performance.now() - f0) / 1000;

  const t0 = performance.now();
  const checkpoint = checkpointWriter(job.out);
  const trained = await trainJoint(train, dev, job.config, {
    ...job.hooks,
    onCheckpoint: (t, e) => {
      checkpoint(t, e);
      job.hooks?.onCheckpoint?.(t, e);
    },
  });
  const trainingSeconds = (performance.now() - t0) / 1000;
  const sha256 = saveJoint(job.out, trained, undefined, { trainPairs: trainSet.captions.length, trainImages: trainSet.images.length });
  return {
    out: job.out,
    sha256,
    trained,
    pairs: { train: trainSet.captions.length, dev: devSet?.captions.length ?? 0 },
    features: stats,
    seconds: { features: featureSeconds, training: trainingSeconds },
  };
}
