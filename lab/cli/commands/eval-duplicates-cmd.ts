import fs from 'node:fs';
import { printJson, table } from '../../../src/cli/output.js';
import { createProgress } from '../../../src/cli/progress.js';
import type { EvalCommandOptions } from '../eval-options.js';
import type { DuplicatesEvalReport } from '../../eval/duplicates.js';

const f = (x: number) => x.toFixed(4);

/** `visor-lab eval duplicates`: near-duplicate groups on seeded edits of the Flickr8k test photos among 7,000 distractors. */
export async function evalDuplicatesCommand(o: EvalCommandOptions): Promise<void> {
  if (o.scale) return (await import('./eval-duplicates-scale-cmd.js')).evalDuplicatesScaleCommand(o, o.scale);
  const { evalDuplicates } = await import('../../eval/duplicates.js');
  const indexing = createProgress(o.progress);
  const working = createProgress(o.progress, 'steps');
  let printed = false;
  const report = await evalDuplicates({
    db: o.db,
    limit: o.limit,
    split: o.split,
    growth: o.growth,
    // The figures are printed as soon as they are known; the growth timings follow.
    onFigures: (r) => {
      if (o.json) return;
      indexing.stop();
      working.stop();
      process.stdout.write(figures(r));
      printed = true;
    },
    onIndexProgress: (p) => p.phase === 'embedding' && indexing.update({ phase: 'indexing', done: p.done, total: p.total }),
    onProgress: (phase, done, total) => {
      indexing.stop();
      working.update({ phase, done, total });
    },
  });
  indexing.stop();
  working.stop();
  if (o.out) fs.writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  if (o.json) return printJson(report);
  if (!printed) process.stdout.write(figures(report));
  if (report.seconds.growth)
    process.stdout.write(
      `grouping time by size: ${report.seconds.growth.map((g) => `${g.items} images ${g.seconds.toFixed(1)} s (${g.candidates} candidate pairs, ${g.checked} checked)`).join(', ')}\n`,
    );
}

function figures(report: DuplicatesEvalReport): string {
  const row = (name: string, p: { precision: number; recall: number; predicted: number; relevant: number }, extra: string[] = []) => [
    name,
    f(p.precision),
    f(p.recall),
    `${p.predicted}`,
    `${p.relevant}`,
    ...extra,
  ];
  return (
    `${report.protocol}\n\n` +
    `${table([
      ['edit', 'pair precision', 'pair recall', 'pairs found', 'true pairs', 'copies', 'R@1 original'],
      ...report.perKind.map((k) => row(k.kind, k, [`${k.copies}`, f(k.recallAt1)])),
      row('all edits', report.overall),
      row('all but crops < half', report.overallWithoutSmallCrops),
    ])}\n\n` +
    report.perKind.map((k) => `  ${k.kind}: ${k.edit}`).join('\n') +
    `\n\n${report.groups} groups; ${report.checkedPairs} of ${report.candidatePairs} candidate pairs checked; ` +
    `originals among their copy's candidates: ${f(report.candidateRecall)}; images skipped: ${report.skipped}\n` +
    `time: indexing ${report.seconds.index.toFixed(1)} s, grouping ${report.originals + report.distractors + report.copies} images ${report.seconds.group.toFixed(1)} s, R@1 ${report.seconds.recall.toFixed(1)} s\n`
  );
}
