import fs from 'node:fs';
import path from 'node:path';
import type { CrossModalReport } from '../../eval/cross-modal.js';
import { loadFlickr8k } from '../../eval/datasets.js';
import { writeJointFile } from '../../../src/models/joint-format.js';
import { JointModel } from '../../../src/models/joint-model.js';
import { pairedSet, readCaptionsCsv, type PairedSet } from './data.js';
import { extractImageFeatures, type ExtractStats } from './features.js';
import { checkpointWriter, jointModelParts } from './checkpoint.js';
import { buildQueryBanks, queryBankTensors, type QueryBanks } from './query-banks.js';
import { trainMemberInProcess } from './member-process.js';
import { DEFAULT_JOINT_CONFIG, LOSS_EPOCHS, trainJoint, type JointTrainConfig, type TrainedJoint, type TrainHooks, type TrainSplit } from './trainer.js';

export interface JointTrainingJob {
  /** Training pairs: a captions CSV (and its images folder), or a Flickr8k split by name. */
  train: { captions: string; images?: string } | { flickr8k: 'train' | 'train+dev' };
  dev?: { captions: string; images?: string } | { flickr8k: 'dev' };
  out: string;
  config?: Partial<JointTrainConfig>;
  /**
   * Train one network per loss and save them as one ensemble model (their cosines averaged).
   * Default: the single loss of `config`.
   */
  losses?: Array<JointTrainConfig['loss']>;
  /** Networks per loss, each from its own seed (seed, seed+1, …): one number for every loss, or per loss; default 1. */
  membersPerLoss?: number | Partial<Record<JointTrainConfig['loss'], number>>;
  /** Members trained at once, each in its own process (tfjs-wasm uses one core); default 1. */
  jobs?: number;
  /** Per loss, stop after this many epochs of its schedule (training without a dev split to stop on). */
  stopAfter?: Partial<Record<JointTrainConfig['loss'], number>>;
  /** Without a dev split: the query banks' temperatures, as chosen on dev by an earlier run (none: no banks). */
  queryBankBetas?: { text: number; image: number };
  /** Feature cache root (default: under the user cache dir). */
  featureCache?: string;
  onFeatures?: (split: string, done: number, total: number) => void;
  hooks?: TrainHooks;
}

export interface JointTrainingSummary {
  out: string;
  sha256: string;
  /** One per loss, in `losses` order. */
  members: TrainedJoint[];
  /** Dev figures of the saved model (the ensemble when there are several members, with its query banks). */
  dev: CrossModalReport | null;
  pairs: { train: number; dev: number };
  features: Record<string, ExtractStats>;
  /** Querybank normalisation temperatures chosen on dev (0: off); null without a dev split. */
  queryBanks: { textToImage: number; imageToText: number } | null;
  /** Feature extraction, training, and building the query banks (with choosing β on dev). */
  seconds: { features: number; training: number; queryBanks: number };
}

/** Members trained `jobs` at a time in child processes, in `runs` order in the result. */
async function trainMembersInParallel(
  job: JointTrainingJob,
  runs: Array<{ loss: JointTrainConfig['loss']; k: number; tag: string }>,
  jobs: number,
): Promise<TrainedJoint[]> {
  const dir = `${job.out}.ckpt`;
  fs.mkdirSync(dir, { recursive: true });
  const out: TrainedJoint[] = new Array(runs.length);
  // Longest runs first (a schedule's epochs, or where it stops), so that the last member to start is a short one.
  const epochsOf = (loss: JointTrainConfig['loss']) => {
    const epochs = job.config?.epochs ?? LOSS_EPOCHS[loss];
    const stop = job.stopAfter?.[loss];
    return stop ? Math.min(stop, epochs) : epochs;
  };
  const order = runs.map((_, i) => i).sort((a, b) => epochsOf(runs[b]!.loss) - epochsOf(runs[a]!.loss) || a - b);
  let next = 0;
  const worker = async () => {
    while (next < order.length && !job.hooks?.signal?.aborted) {
      const i = order[next++]!;
      const { loss, k, tag } = runs[i]!;
      const seed = (job.config?.seed ?? DEFAULT_JOINT_CONFIG.seed) + k;
      out[i] = await trainMemberInProcess(
        { train: job.train, dev: job.dev, config: memberConfig(job, loss, seed), out: path.join(dir, `${tag}.joint`), featureCache: job.featureCache },
        (p) => job.hooks?.onProgress?.({ ...p, member: tag }),
        job.hooks?.signal,
      );
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  return out.filter(Boolean);
}

/** One member's settings: the job's, its loss and seed, and where that loss stops. */
function memberConfig(job: JointTrainingJob, loss: JointTrainConfig['loss'], seed: number): Partial<JointTrainConfig> {
  const stopAfter = job.stopAfter?.[loss];
  return { ...job.config, loss, seed, ...(stopAfter ? { stopAfter } : {}) };
}

function loadPairs(src: JointTrainingJob['train'] | NonNullable<JointTrainingJob['dev']>): PairedSet {
  if (!('flickr8k' in src)) return pairedSet(readCaptionsCsv(src.captions, src.images));
  if (src.flickr8k === 'train+dev') return pairedSet([...loadFlickr8k('train').images, ...loadFlickr8k('dev').images]);
  return pairedSet(loadFlickr8k(src.flickr8k).images);
}

/**
 * The whole `visor-lab train joint` job: read captions, extract (or reuse cached) image features,
 * train with checkpoints, save the model. Feature extraction and training are timed apart.
 */
/** The training pairs with their image features (extracted, or read from the feature cache). */
export async function loadTrainingSplits(
  job: Pick<JointTrainingJob, 'train' | 'dev' | 'config' | 'featureCache' | 'onFeatures'>,
): Promise<{ train: TrainSplit; dev: TrainSplit | null; stats: Record<string, ExtractStats> }> {
  const trainSet = loadPairs(job.train);
  const devSet = job.dev ? loadPairs(job.dev) : null;
  const flip = job.config?.flip ?? true;
  const stats: Record<string, ExtractStats> = {};
  const extract = async (name: string, set: PairedSet, mirrored: boolean) => {
    const f = await extractImageFeatures(set.images, { cacheDir: job.featureCache, flip: mirrored, onProgress: (d, t) => job.onFeatures?.(name, d, t) });
    stats[name] = f.stats;
    return f;
  };
  const train: TrainSplit = { set: trainSet, features: await extract('train', trainSet, false) };
  if (flip) train.flipped = await extract('train (mirrored)', trainSet, true);
  const dev: TrainSplit | null = devSet ? { set: devSet, features: await extract('dev', devSet, false) } : null;
  return { train, dev, stats };
}

export async function runJointTraining(job: JointTrainingJob): Promise<JointTrainingSummary> {
  const f0 = performance.now();
  const { train, dev, stats } = await loadTrainingSplits(job);
  const trainSet = train.set;
  const devSet = dev?.set ?? null;
  const featureSeconds = (performance.now() - f0) / 1000;

  const t0 = performance.now();
  const losses = job.losses ?? [job.config?.loss ?? 'infonce'];
  const members: TrainedJoint[] = [];
  const perLoss = (loss: JointTrainConfig['loss']) => (typeof job.membersPerLoss === 'number' ? job.membersPerLoss : (job.membersPerLoss?.[loss] ?? 1));
  const runs = losses.flatMap((loss) => Array.from({ length: perLoss(loss) }, (_, k) => ({ loss, k, tag: k === 0 ? loss : `${loss}-${k + 1}` })));
  const jobs = Math.min(job.jobs ?? 1, runs.length);
  if (jobs > 1) {
    members.push(...(await trainMembersInParallel(job, runs, jobs)));
  } else
    for (const { loss, k, tag } of runs) {
      if (job.hooks?.signal?.aborted) break;
      const checkpoint = checkpointWriter(job.out, tag);
      const seed = (job.config?.seed ?? DEFAULT_JOINT_CONFIG.seed) + k;
      members.push(
        await trainJoint(train, dev, memberConfig(job, loss, seed), {
          ...job.hooks,
          onCheckpoint: (t, e) => {
            checkpoint(t, e);
            job.hooks?.onCheckpoint?.(t, e);
          },
        }),
      );
    }
  const trainingSeconds = (performance.now() - t0) / 1000;
  const name = path.basename(job.out).replace(/\.joint$/, '');
  const parts = jointModelParts(members, name, {
    trainPairs: trainSet.captions.length,
    trainImages: trainSet.images.length,
    losses,
    membersPerLoss: Object.fromEntries(losses.map((l) => [l, perLoss(l)])),
  });
  let devReport = members.length === 1 ? (members[0]!.best ?? null) : null;
  let banks: QueryBanks | null = null;
  const b0 = performance.now();
  if (dev) {
    // Querybank normalisation, its temperatures chosen on dev; β = 0 (off) is one of the choices.
    banks = await withTrainedModel(parts, (model) => buildQueryBanks(model, train, dev));
    for (const [k, v] of banks.tensors) parts.tensors.set(k, v);
    parts.header.queryBanks = banks.header;
    devReport = banks.dev;
  } else if (job.queryBankBetas) {
    const fixed = await withTrainedModel(parts, (model) => queryBankTensors(model, train));
    for (const [k, v] of fixed) parts.tensors.set(k, v);
    parts.header.queryBanks = { text: { beta: job.queryBankBetas.text }, image: { beta: job.queryBankBetas.image } };
  }
  const bankSeconds = (performance.now() - b0) / 1000;
  parts.header.training = { ...parts.header.training, dev: devReport, ...(banks ? { queryBanks: banks.tried } : {}) };
  fs.mkdirSync(path.dirname(path.resolve(job.out)), { recursive: true });
  const sha256 = writeJointFile(job.out, parts.header, parts.tensors);
  return {
    out: job.out,
    sha256,
    members,
    dev: devReport,
    pairs: { train: trainSet.captions.length, dev: devSet?.captions.length ?? 0 },
    features: stats,
    queryBanks: parts.header.queryBanks ? { textToImage: parts.header.queryBanks.text?.beta ?? 0, imageToText: parts.header.queryBanks.image?.beta ?? 0 } : null,
    seconds: { features: featureSeconds, training: trainingSeconds, queryBanks: bankSeconds },
  };
}

/** Runs `use` on the model the trained parts make (in memory, before the file is written), then closes it. */
async function withTrainedModel<T>(parts: ReturnType<typeof jointModelParts>, use: (model: JointModel) => T | Promise<T>): Promise<T> {
  const model = await JointModel.fromTensors(
    { ...parts.header, format: 'visor-joint', version: 1, tensors: [], weightsSha256: '' },
    new Map([...parts.tensors].map(([k, v]) => [k, v.data])),
  );
  try {
    return await use(model); // awaited, so the model outlives an async use
  } finally {
    model.close();
  }
}
