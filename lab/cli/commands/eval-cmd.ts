import fs from 'node:fs';
import { VisorError } from '../../../src/errors.js';
import { prepareOutFile, printJson, table } from '../../../src/cli/output.js';
import { createProgress } from '../../../src/cli/progress.js';
import type { EvalCommandOptions } from '../eval-options.js';

export type { EvalCommandOptions };

export const EVAL_DATASETS = [
  'cifar10',
  'cifar10-zeroshot',
  'flickr8k',
  'tags',
  'cifar10-classify',
  'objects',
  'css',
  'colours',
  'detection',
  'ocr',
  'faces',
  'duplicates',
] as const;

const pct = (x: number) => x.toFixed(4);

export async function evalCommand(dataset: string, o: EvalCommandOptions): Promise<void> {
  if (!(EVAL_DATASETS as readonly string[]).includes(dataset)) {
    throw new VisorError('QUERY_INVALID', `unknown evaluation ${JSON.stringify(dataset)}; available: ${EVAL_DATASETS.join(', ')}`);
  }
  if (o.out) prepareOutFile(o.out); // before an evaluation that may take minutes, not after
  if (dataset === 'faces') return (await import('./eval-faces-cmd.js')).evalFacesCommand(o);
  if (dataset === 'duplicates') return (await import('./eval-duplicates-cmd.js')).evalDuplicatesCommand(o);
  if (dataset === 'ocr') return (await import('./eval-ocr-cmd.js')).evalOcrCommand(o);
  if (dataset === 'css') return (await import('./eval-css-cmd.js')).evalCssCommand(o);
  if (dataset === 'colours') return (await import('./eval-colours-cmd.js')).evalColoursCommand(o);
  if (dataset === 'detection') return (await import('./eval-detection-cmd.js')).evalDetectionCommand(o);
  if (dataset === 'flickr8k' && !o.zeroShot) return evalFlickr8kCommand(o);
  if (dataset === 'cifar10-classify' || dataset === 'objects') {
    return (await import('./eval-domain-cmd.js')).domainEvalCommand(dataset, o);
  }
  if (dataset !== 'cifar10') return (await import('./eval-zeroshot-cmd.js')).evalZeroShotCommand(dataset, o);
  const { evalCifar10 } = await import('../../eval/cifar10.js');
  const indexing = createProgress(o.progress);
  const searching = createProgress(o.progress, 'queries');
  const report = await evalCifar10({
    db: o.db,
    limit: o.limit,
    rerank: o.rerank,
    ranked: o.ranked,
    onIndexProgress: (p) => p.phase === 'embedding' && indexing.update({ phase: 'indexing', done: p.done, total: p.total }),
    onSearchProgress: (done, total) => {
      indexing.stop();
      searching.update({ phase: 'searching', done, total });
    },
  });
  indexing.stop();
  searching.stop();
  if (o.out) fs.writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  if (o.json) return printJson(report);
  const m = report.metrics;
  process.stdout.write(
    `${report.protocol}\n${report.queries} queries, ${report.gallery} gallery images each\n\n` +
      `${table([
        ['mAP@1000', pct(m.mapAt1000)],
        ['mAP@all', m.mapAll === null ? `(ranked to ${o.ranked})` : pct(m.mapAll)],
        ['P@10', pct(m.precisionAt10)],
        ['R-Precision', m.rPrecision === null ? `(ranked to ${o.ranked})` : pct(m.rPrecision)],
        ['R@1 (top hit same class)', pct(m.recallAt1)],
      ])}\n\n` +
      `held out (${report.heldOut.queries} queries, the 1,000 tuning queries left out): mAP@1000 ${pct(report.heldOut.mapAt1000)}, P@10 ${pct(report.heldOut.precisionAt10)}\n` +
      `time: ${report.seconds.total.toFixed(1)} s (indexing ${report.seconds.index.toFixed(1)} s, searching ${report.seconds.search.toFixed(1)} s)\n`,
  );
}

const r1 = (x: number) => x.toFixed(1);

async function evalFlickr8kCommand(o: EvalCommandOptions): Promise<void> {
  if (!o.textModel)
    throw new VisorError(
      'QUERY_INVALID',
      'flickr8k evaluates a joint text–image model (--text-model <file.joint>) or text search with no training (--zero-shot)',
    );
  const { evalFlickr8k } = await import('../../eval/flickr8k.js');
  const { parseWeights } = await import('../../../src/cli/search-options.js');
  const indexing = createProgress(o.progress);
  const searching = createProgress(o.progress, 'queries');
  const report = await evalFlickr8k({
    textModel: o.textModel,
    db: o.db,
    split: o.split,
    limit: o.limit,
    fused: o.fused ? { weights: parseWeights(o.weights), fusion: o.fusion } : undefined,
    onIndexProgress: (p) => p.phase === 'embedding' && indexing.update({ phase: 'indexing', done: p.done, total: p.total }),
    onSearchProgress: (done, total) => {
      indexing.stop();
      searching.update({ phase: 'fused search', done, total });
    },
  });
  indexing.stop();
  searching.stop();
  if (o.out) fs.writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  if (o.json) return printJson(report);
  const row = (name: string, m: typeof report.textToImage) => [name, r1(m.r1), r1(m.r5), r1(m.r10), String(m.medianRank), r1(m.meanRank)];
  process.stdout.write(
    `${report.protocol}\nmodel: ${report.model.name} (${report.model.file}), ${report.model.dimension}-d\n\n` +
      `${table([
        ['direction', 'R@1', 'R@5', 'R@10', 'median rank', 'mean rank'],
        row('text→image', report.textToImage),
        row('image→text', report.imageToText),
        ...(report.fused ? [row(`text→image fused (${report.fused.fusion})`, report.fused.textToImage)] : []),
      ])}\n` +
      (report.fused
        ? `fused: Collection.search, top ${report.fused.depth} per caption (beyond: rank ${report.fused.depth + 1}); signals understood: ${Object.entries(
            report.fused.understood,
          )
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}\n`
        : '') +
      `R-sum ${r1(report.rsum)}\n\n` +
      `time: ${report.seconds.total.toFixed(1)} s (indexing ${report.seconds.index.toFixed(1)} s, encoding ${report.seconds.encode.toFixed(1)} s, ranking ${report.seconds.search.toFixed(1)} s)\n`,
  );
}
