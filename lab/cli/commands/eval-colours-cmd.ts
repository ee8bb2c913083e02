import fs from 'node:fs';
import { BASIC_COLOURS } from '../../../src/core/facts.js';
import { printJson, table } from '../../../src/cli/output.js';
import { createProgress } from '../../../src/cli/progress.js';
import type { EvalCommandOptions } from '../eval-options.js';

const f3 = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(3));

/** `visor-lab eval colours`: colour facts on generated scenes; the report on stdout. */
export async function evalColoursCommand(o: EvalCommandOptions): Promise<void> {
  const { evalColours } = await import('../../eval/colours.js');
  const progress = createProgress(o.progress, 'steps');
  const report = await evalColours({ scenes: o.limit, onProgress: (phase, done, total) => progress.update({ phase, done, total }) });
  progress.stop();
  if (o.out) fs.writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  if (o.json) return printJson(report);
  const colours = BASIC_COLOURS.filter((c) => report.configs.some((r) => r.colour.perColour[c] !== undefined));
  const rows = [['configuration', 'queries', 'mAP', ...colours]];
  for (const c of report.configs) {
    for (const [kind, q] of [
      ['"<colour>"', c.colour],
      ['"<colour> <shape>"', c.colourShape],
    ] as const) {
      rows.push([`${c.name} ${kind}`, String(q.queries), f3(q.map), ...colours.map((k) => f3(q.perColour[k]))]);
    }
  }
  const d = report.data;
  process.stdout.write(
    `${report.protocol}\n${d.scenes} scenes, ${d.imageSize}×${d.imageSize} px, seed ${d.seed}; colours: ` +
      `${Object.entries(d.colourMap)
        .map(([k, v]) => `${k} → ${v}`)
        .join(', ')}\n\n` +
      `${table(rows)}\n\n` +
      report.configs.map((c) => `${c.name}: ${c.description}`).join('\n') +
      `\n\nobject boxes whose first colour is the object's: ${Object.entries(report.boxTopColourAccuracy)
        .map(([k, v]) => `${k} ${f3(v)}`)
        .join(', ')}\n` +
      `reader cost per image (three boxes): ${Object.entries(report.cost)
        .map(([k, v]) => `${k} ${v.toFixed(3)} ms`)
        .join(', ')}\n` +
      `time: ${report.seconds.toFixed(1)} s\n`,
  );
}
