import fs from 'node:fs';
import { printJson, table } from '../../../src/cli/output.js';
import { createProgress } from '../../../src/cli/progress.js';
import type { EvalCommandOptions } from '../eval-options.js';

const f3 = (x: number) => x.toFixed(3);
const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

/** `visor-lab eval faces`: face verification and grouping on LFW; the report on stdout. */
export async function evalFacesCommand(o: EvalCommandOptions & { sweep?: boolean }): Promise<void> {
  const { evalFaces } = await import('../../eval/faces.js');
  const progress = createProgress(o.progress, 'images');
  const r = await evalFaces({ sweep: o.sweep, onProgress: (done, total) => progress.update({ phase: 'reading faces', done, total }) });
  progress.stop();
  if (o.out) fs.writeFileSync(o.out, `${JSON.stringify(r, null, 2)}\n`);
  if (o.json) return printJson(r);
  const v = r.verification;
  const c = r.clustering;
  const inc = r.incremental;
  const sweep = r.sweep.length
    ? `grouping sweep on the development people (peopleDevTrain):\n${table([
        ['join', 'merge', 'precision', 'recall', 'F1', 'persons'],
        ...r.sweep.map((s) => [s.join.toFixed(2), s.merge.toFixed(2), f3(s.precision), f3(s.recall), f3(s.f1), String(s.persons)]),
      ])}\n\n`
    : '';
  process.stdout.write(
    `LFW deep-funneled, ${r.reader}: ${r.images} images, a face read in ${r.withFace} (${r.fallback} below the usual score), ${r.lowQuality} low-quality; ` +
      `reading took ${r.embedSeconds.toFixed(0)} s (cached after the first run)\n\n` +
      `verification, pairs.txt 10-fold (threshold from the other 9 folds): ${pct(v.tenFold.accuracy)} ± ${pct(v.tenFold.std)}; ` +
      `thresholds ${Math.min(...v.tenFold.thresholds).toFixed(3)}–${Math.max(...v.tenFold.thresholds).toFixed(3)}; ${v.missing} pairs with no face\n` +
      `verification, View 1: threshold ${v.dev.threshold.toFixed(3)} from pairsDevTrain (${pct(v.dev.trainAccuracy)} on ${v.dev.trainPairs} pairs), ` +
      `pairsDevTest ${pct(v.dev.testAccuracy)} on ${v.dev.testPairs} pairs (${v.unstaged.dev} View 1 pairs name images not staged, skipped)\n\n` +
      sweep +
      `grouping (join ${r.params.join}, low-quality join ${r.params.joinLow}, merge ${r.params.merge}, move out below ${r.params.evict}):\n${table([
        ['faces', 'count', 'precision', 'recall', 'F1', 'persons found', 'true persons', 'seconds'],
        ...(['all', 'devTest'] as const).map((k) => [
          k === 'all' ? 'all staged' : 'peopleDevTest',
          String(c[k].faces),
          f3(c[k].precision),
          f3(c[k].recall),
          f3(c[k].f1),
          String(c[k].persons),
          String(c[k].truePersons),
          c[k].seconds.toFixed(1),
        ]),
      ])}\n\n` +
      `incremental, ${inc.batches} batches vs one go: F1 ${f3(inc.batched.f1)} vs ${f3(inc.oneGo.f1)} (difference ${inc.f1Difference >= 0 ? '+' : ''}${f3(inc.f1Difference)}); ` +
      `precision ${f3(inc.batched.precision)} vs ${f3(inc.oneGo.precision)}, recall ${f3(inc.batched.recall)} vs ${f3(inc.oneGo.recall)}, persons ${inc.batched.persons} vs ${inc.oneGo.persons}\n` +
      `named after batch 1: "${inc.named.name}"; at the end the person holding ${pct(inc.named.faceShare)} of their faces ${inc.named.keptName ? 'keeps the name' : 'LOST the name'} (${inc.named.faces} faces)\n`,
  );
}
