import { displayPath, printJson, table } from '../../../src/cli/output.js';
import { createProgress, type ProgressMode } from '../../../src/cli/progress.js';
import type { GlobalOptions } from '../../../src/cli/run.js';

const f4 = (x: number) => x.toFixed(4);

export interface DomainEvalOptions extends GlobalOptions {
  limit?: number;
  /** cifar10-classify: mirror images (default true; --no-mirror). */
  mirror?: boolean;
  out?: string;
  progress: ProgressMode;
}

/** `visor-lab eval cifar10-classify` and `visor-lab eval objects`. */
export async function domainEvalCommand(name: 'cifar10-classify' | 'objects', o: DomainEvalOptions): Promise<void> {
  const progress = createProgress(o.progress, 'steps');
  if (name === 'cifar10-classify') {
    const { evalCifar10Classify } = await import('../../eval/cifar10-classify.js');
    const r = await evalCifar10Classify({
      db: o.db,
      limit: o.limit,
      out: o.out,
      mirror: o.mirror,
      onIndexProgress: (p) => p.phase === 'embedding' && progress.update({ phase: 'indexing', done: p.done, total: p.total }),
      onProgress: (phase, done, total) => progress.update({ phase, done, total }),
    });
    progress.stop();
    if (o.json) return printJson(r);
    const rt = r.retrieval;
    process.stdout.write(
      `${r.protocol}\n${r.items} images\n\n${table([
        [`classifier accuracy (${r.classification.folds}-fold CV)`, f4(r.classification.accuracy)],
        ['balanced accuracy', f4(r.classification.balancedAccuracy)],
        ...(r.classification.withoutMirror ? [['accuracy without mirror images', f4(r.classification.withoutMirror.accuracy)]] : []),
        ['zero-shot accuracy (names only, no labels)', f4(r.classification.zeroShotAccuracy)],
        ['mAP@1000 plain', f4(rt.plain.mapAt1000)],
        ['mAP@1000 narrowed (catalogue categories)', f4(rt.narrowedCatalogue.mapAt1000)],
        ['mAP@1000 narrowed (predicted categories)', f4(rt.narrowedPredicted.mapAt1000)],
        ['mAP@1000 narrowed (zero-shot categories)', f4(rt.narrowedZeroShot.mapAt1000)],
        ['queries narrowed', f4(rt.narrowedShare)],
        ...(r.latency
          ? [
              ['p50 query latency plain', `${r.latency.p50Ms.plain.toFixed(1)} ms`],
              ['p50 query latency narrowed', `${r.latency.p50Ms.narrowed.toFixed(1)} ms`],
            ]
          : []),
      ])}\n` + (r.files.length ? `files: ${r.files.map(displayPath).join(', ')}\n` : ''),
    );
    return;
  }
  const { evalObjects } = await import('../../eval/objects.js');
  const r = await evalObjects({
    dir: o.db,
    perObject: o.limit,
    out: o.out,
    onProgress: (phase, done, total) => progress.update({ phase, done, total }),
  });
  progress.stop();
  if (o.json) return printJson(r);
  const rows = (Object.keys(r.retrieval) as Array<keyof typeof r.retrieval>).map((k) => [
    k,
    f4(r.retrieval[k].map),
    f4(r.retrieval[k].precisionAt5),
    `${r.retrieval[k].p50Ms.toFixed(1)} ms`,
  ]);
  process.stdout.write(
    `${r.protocol}\n${r.images} images, method ${r.method}: localisation mean IoU ${f4(r.localization.meanIoU)}, object found in ${f4(r.localization.foundShare)}\n\n` +
      `${table([['stages', 'mAP', 'P@5', 'p50 query'], ...rows])}\n\nmAP gain (localize+rerank / plain): ${r.gain.toFixed(3)}×\n` +
      (r.files.length ? `files: ${r.files.map(displayPath).join(', ')}\n` : ''),
  );
}
