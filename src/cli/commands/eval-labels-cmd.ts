import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Collection } from '../../collection.js';
import type { LabelsEvalReport } from '../../quality/labels-eval.js';
import { displayPath, prepareOutFile, printJson, table } from '../output.js';
import { createProgress, type ProgressMode } from '../progress.js';
import type { GlobalOptions } from '../run.js';

export interface EvalLabelsOptions extends GlobalOptions {
  label: string;
  k?: number;
  report?: string;
  /** false with --no-classifier. */
  classifier?: boolean;
  zeroShot?: boolean;
  progress?: ProgressMode;
}

const f = (x: number) => x.toFixed(4);

/** `visor eval labels <catalogue> --label <column>`: search quality on the user's own labelled images. */
export async function evalLabelsCommand(catalogue: string, o: EvalLabelsOptions): Promise<void> {
  const reportFile = o.report ? prepareOutFile(o.report, '--report') : undefined;
  // Without --db, a temporary index, removed afterwards (the user's collections are untouched).
  const tmp = o.db ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'visor-eval-labels-'));
  const c = await Collection.open({ db: o.db ?? tmp!, create: true });
  const indexing = createProgress(o.progress ?? 'auto');
  const searching = createProgress(o.progress ?? 'auto', 'queries');
  const training = createProgress(o.progress ?? 'auto', 'folds');
  try {
    const r = await c.evaluateLabels(catalogue, {
      label: o.label,
      k: o.k,
      ...(tmp ? { facts: [] } : {}),
      onIndexProgress: (p) => p.phase === 'embedding' && indexing.update({ phase: 'indexing', done: p.done, total: p.total }),
      onProgress: (done, total) => {
        indexing.stop();
        searching.update({ phase: 'searching', done, total });
      },
      classifier: o.classifier !== false,
      zeroShot: o.zeroShot === true,
      onClassifierProgress: (done, total) => {
        searching.stop();
        training.update({ phase: 'cross-validating the classifier', done, total });
      },
    });
    indexing.stop();
    searching.stop();
    training.stop();
    if (reportFile) {
      const { labelsReportPage } = await import('../../quality/report-html.js');
      fs.writeFileSync(reportFile, await labelsReportPage(r, `Search quality: ${path.basename(catalogue)}`));
      if (!o.json) process.stderr.write(`report: ${displayPath(reportFile)}\n`);
    }
    if (o.json) return printJson(r);
    const K = r.k.map;
    const P = r.k.precision;
    process.stdout.write(
      `${displayPath(catalogue)}, label column "${r.label}": ${r.queries} queries over ${r.labels} labels, ${r.gallery} gallery images each\n\n` +
        (r.queries
          ? `${table([
              [`mAP@${K}`, f(r.metrics.mapAtK)],
              ['mAP@all', f(r.metrics.mapAll)],
              [`P@${P}`, f(r.metrics.precisionAtK)],
              ['R-Precision', f(r.metrics.rPrecision)],
              ['R@1', f(r.metrics.recallAt1)],
              [`Recall@${K}`, f(r.metrics.recallAtK)],
            ])}\n\nper label, worst first:\n${table([['label', 'images', 'mAP', `P@${P}`], ...r.perLabel.map((l) => [l.label, String(l.images), f(l.map), f(l.precisionAtK)])])}\n`
          : 'nothing to measure: no label has two images\n') +
        classifierText(r.classifier) +
        zeroShotText(r.zeroShot),
    );
    const lo = r.leftOut;
    if (lo.unlabelled) process.stderr.write(`visor: ${lo.unlabelled} catalogue row${lo.unlabelled === 1 ? '' : 's'} with no "${r.label}" left out\n`);
    if (lo.singleImageLabels.length)
      process.stderr.write(
        `visor: ${lo.singleImageLabels.length} label${lo.singleImageLabels.length === 1 ? '' : 's'} with a single image (nothing relevant to query for): ${lo.singleImageLabels.slice(0, 10).join(', ')}${lo.singleImageLabels.length > 10 ? ', …' : ''}\n`,
      );
    const nu = r.zeroShot?.notUnderstood ?? [];
    if (nu.length)
      process.stderr.write(
        `visor: zero-shot: no signal understands the label name${nu.length === 1 ? '' : 's'} ${nu.map((l) => JSON.stringify(l)).join(', ')} (AP 0; rename, or train a joint model on captions)\n`,
      );
    for (const p of lo.notIndexed) process.stderr.write(`visor: ${displayPath(p.path)}: left out (${p.reason})\n`);
  } finally {
    indexing.stop();
    searching.stop();
    training.stop();
    await c.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The classifier's cross-validated accuracy and confusion matrix (rows: true label, columns: predicted). */
function classifierText(c: LabelsEvalReport['classifier']): string {
  if (!c) return '';
  if ('notMeasured' in c) return `\ncategory classifier: not measured (${c.notMeasured})\n`;
  const short = (l: string) => (l.length > 8 ? `${l.slice(0, 7)}…` : l);
  return (
    `\ncategory classifier, ${c.folds}-fold cross-validation on ${c.items} images: accuracy ${f(c.accuracy)}, balanced accuracy ${f(c.balancedAccuracy)}\n` +
    `confusion matrix (rows: label, columns: predicted):\n${table([['', ...c.categories.map(short)], ...c.confusion.map((row, i) => [c.categories[i]!, ...row.map(String)])])}\n`
  );
}

/** Text→image with the label names as queries: mAP, and AP per label (worst first). */
function zeroShotText(z: LabelsEvalReport['zeroShot']): string {
  if (!z) return '';
  return (
    `\nzero-shot, each label name as a text query (catalogue fields and file names not used): mAP ${f(z.map)}` +
    (z.notUnderstood.length
      ? ` (${f(z.mapUnderstood)} over the ${z.perLabel.length - z.notUnderstood.length} label${z.perLabel.length - z.notUnderstood.length === 1 ? '' : 's'} understood)`
      : '') +
    `\n${table([['label', 'images', 'AP'], ...z.perLabel.map((l) => [l.label, String(l.images), l.understood ? f(l.ap) : 'not understood'])])}\n`
  );
}
