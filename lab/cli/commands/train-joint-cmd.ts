import os from 'node:os';
import path from 'node:path';
import { VisorError } from '../../../src/errors.js';
import type { JointTrainConfig } from '../../train/joint/trainer.js';
import { printJson, table } from '../../../src/cli/output.js';
import { createProgress, type ProgressMode } from '../../../src/cli/progress.js';
import { EXIT, type GlobalOptions } from '../../../src/cli/run.js';

export interface TrainJointOptions extends GlobalOptions {
  captions?: string;
  images?: string;
  dev?: string;
  devImages?: string;
  /** Train on the Flickr8k train split, select on dev (the data sets search path). */
  flickr8k?: boolean;
  /** With --flickr8k: fit the chosen recipe on train and dev together (no early stopping, dev's choices kept). */
  final?: boolean;
  out: string;
  epochs?: number;
  patience?: number;
  batchSize?: number;
  lr?: number;
  loss?: JointTrainConfig['loss'] | 'both';
  encoder?: JointTrainConfig['encoder'];
  dimension?: number;
  seed?: number;
  probs?: boolean;
  flip?: boolean;
  bigrams?: boolean;
  wordVectors?: JointTrainConfig['wordVectors'];
  extraWords?: number;
  members?: number | Partial<Record<JointTrainConfig['loss'], number>>;
  imageHead?: JointTrainConfig['imageHead'];
  jobs?: number;
  progress: ProgressMode;
}

const f1 = (x: number) => x.toFixed(1);

export async function trainJointCommand(o: TrainJointOptions): Promise<number> {
  if (!o.flickr8k && !o.captions) throw new VisorError('QUERY_INVALID', 'give --captions <file.csv> (and --images <dir>), or --flickr8k');
  if (o.final && !o.flickr8k) throw new VisorError('QUERY_INVALID', '--final fits the Flickr8k recipe on its train and dev splits: it needs --flickr8k');
  const { runJointTraining } = await import('../../train/joint/run.js');
  const { LOSS_STOP_AFTER_FINAL } = await import('../../train/joint/trainer.js');
  const { FLICKR8K_BANK_BETAS } = await import('../../train/joint/query-banks.js');
  const config: Partial<JointTrainConfig> = Object.fromEntries(
    Object.entries({
      epochs: o.epochs,
      patience: o.patience,
      batchSize: o.batchSize,
      lr: o.lr,
      loss: o.loss === 'both' ? undefined : o.loss,
      encoder: o.encoder,
      dimension: o.dimension,
      seed: o.seed,
      useProbs: o.probs,
      flip: o.flip,
      bigrams: o.bigrams,
      wordVectors: o.wordVectors,
      imageHead: o.imageHead,
      extraWords: o.extraWords,
    }).filter(([, v]) => v !== undefined),
  );
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(EXIT.interrupted);
    abort.abort();
    process.stderr.write('\nStopping after this step; the best model so far will be saved… (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSigint);
  const features = createProgress(o.progress);
  const training = createProgress(o.progress, 'steps');
  const lines: string[] = [];
  try {
    const s = await runJointTraining({
      train: o.flickr8k ? { flickr8k: o.final ? 'train+dev' : 'train' } : { captions: o.captions!, images: o.images },
      dev: o.flickr8k ? (o.final ? undefined : { flickr8k: 'dev' }) : o.dev ? { captions: o.dev, images: o.devImages ?? o.images } : undefined,
      // Fitting on train and dev leaves no dev to choose on: each loss stops, and the query banks'
      // temperatures are set, where dev chose in the selection run (docs/joint.md).
      ...(o.final ? { stopAfter: LOSS_STOP_AFTER_FINAL, queryBankBetas: FLICKR8K_BANK_BETAS } : {}),
      out: path.resolve(o.out),
      config,
      losses: o.loss === 'both' ? ['infonce', 'vse'] : undefined,
      membersPerLoss: o.members,
      // tfjs-wasm computes on one core: one member per core by default.
      jobs: o.jobs ?? os.availableParallelism(),
      onFeatures: (split, done, total) => features.update({ phase: `features ${split}`, done, total }),
      hooks: {
        signal: abort.signal,
        onProgress: (p) => {
          features.stop();
          if (p.record) {
            const d = p.record.dev;
            const line =
              `${p.member ? `${p.member} ` : ''}epoch ${p.epoch}: loss ${p.record.loss.toFixed(4)}, ${p.record.seconds.toFixed(0)} s` +
              (d
                ? `; dev text→image R@1/5/10 ${f1(d.textToImage.r1)}/${f1(d.textToImage.r5)}/${f1(d.textToImage.r10)}, image→text ${f1(d.imageToText.r1)}/${f1(d.imageToText.r5)}/${f1(d.imageToText.r10)}, R-sum ${f1(d.rsum)}`
                : '');
            lines.push(line);
            if (o.progress !== 'none' && o.progress !== 'json') process.stderr.write(`\n${line}\n`);
            return;
          }
          training.update({ phase: `epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)}`, done: (p.epoch - 1) * p.steps + p.step, total: p.epochs * p.steps });
        },
      },
    });
    training.stop();
    const t = s.members[0]!;
    const summary = {
      out: s.out,
      sha256: s.sha256,
      pairs: s.pairs,
      vocabulary: t.tokenizer.vocabSize,
      epochs: t.history.length,
      bestEpoch: t.bestEpoch,
      dev: s.dev,
      queryBanks: s.queryBanks,
      members: s.members.map((m) => ({ loss: m.config.loss, epochs: m.history.length, bestEpoch: m.bestEpoch, dev: m.best ?? null, seconds: m.seconds })),
      seconds: s.seconds,
      features: s.features,
      interrupted: abort.signal.aborted,
    };
    if (o.json) printJson(summary);
    else {
      const d = s.dev;
      process.stdout.write(
        `Saved ${s.out}\n  sha256 ${s.sha256}\n` +
          `${table([
            ['pairs', `${s.pairs.train} train, ${s.pairs.dev} dev`],
            ['vocabulary', String(t.tokenizer.vocabSize)],
            ...s.members.map((m) => [`${m.config.loss}`, `${m.history.length} epochs, best ${m.bestEpoch}` + (m.best ? `, dev R-sum ${f1(m.best.rsum)}` : '')]),
            ...(d
              ? [
                  [
                    `dev text→image${s.members.length > 1 ? ' (ensemble)' : ''}`,
                    `R@1 ${f1(d.textToImage.r1)}  R@5 ${f1(d.textToImage.r5)}  R@10 ${f1(d.textToImage.r10)}  median rank ${d.textToImage.medianRank}`,
                  ],
                  [
                    `dev image→text${s.members.length > 1 ? ' (ensemble)' : ''}`,
                    `R@1 ${f1(d.imageToText.r1)}  R@5 ${f1(d.imageToText.r5)}  R@10 ${f1(d.imageToText.r10)}  median rank ${d.imageToText.medianRank}`,
                  ],
                ]
              : []),
            ...(s.queryBanks ? [['querybank β (chosen on dev)', `text→image ${s.queryBanks.textToImage}, image→text ${s.queryBanks.imageToText} (0: off)`]] : []),
            [
              'time',
              `features ${s.seconds.features.toFixed(1)} s, training ${s.seconds.training.toFixed(1)} s, query banks ${s.seconds.queryBanks.toFixed(1)} s`,
            ],
          ])}\n`,
      );
    }
    return abort.signal.aborted ? EXIT.interrupted : EXIT.ok;
  } finally {
    features.stop();
    training.stop();
    process.off('SIGINT', onSigint);
  }
}
