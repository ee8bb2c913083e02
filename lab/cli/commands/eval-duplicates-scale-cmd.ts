import fs from 'node:fs';
import { printJson, table } from '../../../src/cli/output.js';
import { createProgress } from '../../../src/cli/progress.js';
import type { EvalCommandOptions } from '../eval-options.js';
import type { ScalePoint } from '../../eval/duplicates-scale.js';
import type { ScaleSize } from '../../eval/duplicates-scale-plan.js';

const f = (x: number) => x.toFixed(4);
const n = (x: number) => x.toLocaleString('en-GB');

/** What a size is made of, e.g. "1,000 + 1,000 copies + 7,000 Flickr8k + 9,000 LFW". */
export function composition(s: ScaleSize, originals: number, copies: number): string {
  const parts = [`${n(originals)} originals`, `${n(copies)} copies`, `${n(s.distractors.flickr8k)} Flickr8k`];
  if (s.distractors.lfw) parts.push(`${n(s.distractors.lfw)} LFW`);
  if (s.distractors.cifar10) parts.push(`${n(s.distractors.cifar10)} CIFAR-10`);
  return parts.join(' + ');
}

/** Where a path comes from, by its data set's folder: the pairs found wrong, by source, say which distractors confuse the check. */
const sourceOf = (file: string) =>
  file.includes('lfw-deepfunneled') ? 'LFW' : file.includes('cifar10-test') ? 'CIFAR-10' : file.includes('flickr8k') ? 'Flickr8k' : 'copy';

/** The pairs found wrong by the sources of their two images, e.g. "12 Flickr8k–Flickr8k, 3 LFW–LFW". */
export function wrongPairsBySource(pairs: ReadonlyArray<readonly [string, string]>): string {
  const counts = new Map<string, number>();
  for (const [a, b] of pairs) {
    const key = [sourceOf(a), sourceOf(b)].sort().join('–');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return (
    [...counts]
      .sort((x, y) => y[1] - x[1])
      .map(([k, v]) => `${v} ${k}`)
      .join(', ') || 'none'
  );
}

/** One measured size as a line of the log (printed as soon as it is known: the run is long). */
function pointLine(p: ScalePoint): string {
  return (
    `${p.allAvailable ? `all here (${p.scale.toFixed(2)}×)` : `${p.scale}×`}: ${n(p.grouped)} images, ${p.seconds.toFixed(1)} s, ` +
    `${n(p.candidates)} candidate pairs, ${n(p.checked)} checked; pair precision ${f(p.overall.precision)}, recall ${f(p.overall.recall)} ` +
    `(${p.overall.correct} of ${p.overall.predicted} pairs found true, ${p.overall.relevant} true pairs; wrong pairs by source: ${wrongPairsBySource(p.wrongPairs)}); ` +
    `${p.groups} groups, ${p.skipped} images skipped\n`
  );
}

/** `visor-lab eval duplicates --scale 1,2,4`: grouping time and quality at multiples of the benchmark collection. */
export async function evalDuplicatesScaleCommand(o: EvalCommandOptions, scales: number[]): Promise<void> {
  const { evalDuplicatesScale } = await import('../../eval/duplicates-scale.js');
  const indexing = createProgress(o.progress);
  const working = createProgress(o.progress, 'steps');
  const stop = () => {
    indexing.stop();
    working.stop();
  };
  const say = (text: string) => {
    if (o.json) return;
    stop();
    process.stdout.write(text);
  };
  const report = await evalDuplicatesScale({
    db: o.db,
    limit: o.limit,
    scales,
    onPlan: (sizes, short) =>
      say(
        `sizes: ${sizes.map((s) => `${s.allAvailable ? `all here (${s.scale.toFixed(2)}×)` : `${s.scale}×`} = ${n(s.images)} images`).join(', ')}\n` +
          short.map((s) => `SHORT: ${s}\n`).join(''),
      ),
    onPoint: (p) => say(pointLine(p)),
    onIndexProgress: (p) => p.phase === 'embedding' && indexing.update({ phase: 'indexing', done: p.done, total: p.total }),
    onProgress: (phase, done, total) => {
      indexing.stop();
      working.update({ phase, done, total });
    },
  });
  stop();
  if (o.out) fs.writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  if (o.json) return printJson(report);
  const { originals, copies } = report.base;
  process.stdout.write(
    `\n${report.protocol}\nindexing ${report.seconds.index.toFixed(1)} s\n\n` +
      `${table([
        ['size', 'images', 'made of', 'grouping s', 'candidate pairs', 'checked', 'pair precision', 'pair recall', 'recall, crops < half left out'],
        ...report.points.map((p) => [
          p.allAvailable ? `${p.scale.toFixed(2)}× (all here)` : `${p.scale}×`,
          n(p.grouped),
          composition(p, originals, copies),
          p.seconds.toFixed(1),
          n(p.candidates),
          n(p.checked),
          f(p.overall.precision),
          f(p.overall.recall),
          f(p.overallWithoutSmallCrops.recall),
        ]),
      ])}\n` +
      report.short.map((s) => `SHORT: ${s}\n`).join(''),
  );
}
