import fs from 'node:fs';
import { printJson, table } from '../../../src/cli/output.js';
import { createProgress } from '../../../src/cli/progress.js';
import type { ClassFigures } from '../../eval/detection-captions.js';
import type { EvalCommandOptions } from '../eval-options.js';

const f3 = (x: number) => x.toFixed(3);
const ms = (x: number) => x.toFixed(1);

function row(view: string, kind: string, cls: string, split: string, f: ClassFigures): string[] {
  return [
    view,
    kind,
    cls,
    split,
    f.threshold.toFixed(2),
    f3(f.precision),
    f3(f.recall),
    `${f.hits}/${f.tagged}/${f.named}`,
    `${f3(f.countExact)} / ${f3(f.countWithinOne)} (${f.counted})`,
  ];
}

/** `visor-lab eval detection`: the objects stage's person and dog tags against Flickr8k's captions. */
export async function evalDetectionCommand(o: EvalCommandOptions): Promise<void> {
  const { evalDetectionCaptions, DETECTION_CLASSES, VIEWS } = await import('../../eval/detection-captions.js');
  const progress = createProgress(o.progress, 'images');
  const r = await evalDetectionCaptions({ limit: o.limit, onProgress: (phase, done, total) => progress.update({ phase, done, total }) });
  progress.stop();
  if (o.out) fs.writeFileSync(o.out, `${JSON.stringify(r, null, 2)}\n`);
  if (o.json) return printJson(r);
  const rows = [['view', 'thresholds', 'class', 'split', 'min score', 'precision', 'recall', 'hits/tagged/named', 'count exact / ±1 (images)']];
  for (const view of VIEWS) {
    for (const kind of ['product', 'chosen'] as const) {
      for (const cls of DETECTION_CLASSES) {
        const f = r.views[view][kind][cls]!;
        rows.push(
          row(view, kind === 'product' ? 'product' : 'dev-chosen', cls, 'dev', f.dev),
          row(view, kind === 'product' ? 'product' : 'dev-chosen', cls, 'test', f.test),
        );
      }
    }
  }
  const l = r.latency;
  process.stdout.write(
    `${r.protocol}\n${r.images.dev} dev and ${r.images.test} test images; target precision ≥ ${r.target.precision} at recall ≥ ${r.target.recall}\n` +
      `views: stored = the 224×224 images as stored (squashed); landscape = stretched back to 4:3\n` +
      `product = the thresholds of src/facts/objects-reader.ts; dev-chosen = chosen on dev by this evaluation\n\n` +
      `${table(rows)}\n\n` +
      `latency per image (test, stored, ${l.images} images after warm-up, 1 thread): ${ms(l.wallMs)} ms wall (p50 ${ms(l.p50WallMs)}, p95 ${ms(l.p95WallMs)}), ` +
      `letterbox ${ms(l.letterboxMs)} ms, model ${ms(l.modelMs)} ms, decode+NMS ${ms(l.decodeMs)} ms; ` +
      `CPU ${ms(l.coreMs)} core-ms (letterbox ${ms(l.letterboxCoreMs)}, model ${ms(l.modelCoreMs)})\n` +
      `time: ${r.seconds.toFixed(0)} s\n`,
  );
}
