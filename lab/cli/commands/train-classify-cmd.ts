import fs from 'node:fs';
import path from 'node:path';
import { Collection } from '../../../src/collection.js';
import { VisorError } from '../../../src/errors.js';
import { displayPath, printJson, table } from '../../../src/cli/output.js';
import { createProgress, type ProgressMode } from '../../../src/cli/progress.js';
import type { GlobalOptions } from '../../../src/cli/run.js';

const f4 = (x: number) => x.toFixed(4);

export interface TrainClassifyOptions extends GlobalOptions {
  column: string;
  out: string;
  folds?: number;
  epochs?: number;
  l2?: number;
  /** Write the cross-validation confusion matrix (SVG) beside the classifier. */
  plot?: boolean;
  /** Train on mirror images too (and mark the classifier to average query and mirror). */
  mirror?: boolean;
  progress: ProgressMode;
}

/** `visor-lab train classify`: a category classifier from a catalogue column, cross-validated. */
export async function trainClassifyCommand(o: TrainClassifyOptions): Promise<void> {
  const collection = await Collection.open({ db: o.db });
  try {
    const { loadLabelledRows } = await import('../../train/classify/training-data.js');
    const { trainCategoryClassifier } = await import('../../train/classify/train-classifier.js');
    const data = await loadLabelledRows(collection.store, o.column);
    if (data.rows.count < 2 * (o.folds ?? 5)) {
      throw new VisorError('QUERY_INVALID', `only ${data.rows.count} images have a ${o.column} value; training needs at least ${2 * (o.folds ?? 5)}`);
    }
    const progress = createProgress(o.progress, 'folds');
    const started = performance.now();
    let mirrored;
    if (o.mirror) {
      const { DomainStages } = await import('../../../src/domain/stages.js');
      const { mirroredRows } = await import('../../../src/domain/mirror.js');
      const pipeline = await DomainStages.open(collection.store);
      try {
        mirrored = await mirroredRows(collection.store, await pipeline.encoder(), data.ids, {
          onProgress: (done, total) => progress.update({ phase: 'mirror images', done, total }),
        });
      } finally {
        await pipeline.close();
      }
    }
    const { classifier, crossValidation: cv } = trainCategoryClassifier(data.rows, data.labels, {
      mirrored,
      column: o.column,
      imageModel: collection.store.manifest.imageModel,
      folds: o.folds,
      epochs: o.epochs,
      l2: o.l2,
      onProgress: (phase, done, total) => progress.update({ phase, done, total }),
    });
    progress.stop();
    const out = path.resolve(o.out);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    classifier.save(out);
    const files = [out];
    if (o.plot !== false) {
      const { confusionMatrixSvg } = await import('../../eval/svg.js');
      const svg = out.replace(/\.json$/, '') + '.confusion.svg';
      fs.writeFileSync(svg, confusionMatrixSvg(cv.categories, cv.confusion, `${o.column}: ${cv.folds}-fold CV accuracy ${cv.accuracy.toFixed(3)}`));
      files.push(svg);
    }
    const summary = {
      classifier: classifier.id,
      file: out,
      column: o.column,
      items: data.rows.count,
      unlabelled: data.unlabelled,
      categories: cv.categories,
      folds: cv.folds,
      accuracy: cv.accuracy,
      balancedAccuracy: cv.balancedAccuracy,
      mirror: classifier.mirror,
      temperature: classifier.temperature,
      confusion: cv.confusion,
      files,
      seconds: (performance.now() - started) / 1000,
    };
    if (o.json) return printJson(summary);
    process.stdout.write(
      `${table([
        ['classifier', `${classifier.id} → ${displayPath(out)}`],
        ['trained on', `${data.rows.count} images labelled in ${o.column} (${data.unlabelled} without a label), ${cv.categories.length} categories`],
        [`${cv.folds}-fold CV accuracy`, f4(cv.accuracy)],
        ['balanced accuracy', f4(cv.balancedAccuracy)],
        ['temperature', classifier.temperature.toFixed(3)],
        ['files', files.map(displayPath).join(', ')],
      ])}\n` + `next: visor categorize --model ${displayPath(out)}${' '}--column ${o.column}\n`,
    );
  } finally {
    await collection.close();
  }
}
