import fs from 'node:fs';
import type { ImageEncoderKind } from '../../../src/compose/network.js';
import { printJson, table } from '../../../src/cli/output.js';
import { createProgress, type ProgressReporter } from '../../../src/cli/progress.js';
import type { EvalCommandOptions } from '../eval-options.js';

const f3 = (x: number) => (Number.isNaN(x) ? '–' : x.toFixed(3));

/** `visor-lab eval css`: generate, train, evaluate; phase times on stderr, the report on stdout. */
export async function evalCssCommand(o: EvalCommandOptions): Promise<void> {
  const { evalCss } = await import('../../eval/css/css-eval.js');
  let bar: { phase: string; reporter: ProgressReporter } | null = null;
  const log = (line: string) => {
    if (o.progress !== 'none' && o.progress !== 'json') process.stderr.write(`${line}\n`);
  };
  const report = await evalCss({
    trainQueries: o.queries,
    testQueries: o.queries,
    epochs: o.epochs,
    encoder: o.encoder as ImageEncoderKind | undefined,
    dataDir: o.keep,
    onPhase: (phase, seconds) => {
      if (seconds === undefined) return log(`${phase}…`);
      bar?.reporter.stop();
      bar = null;
      log(`${phase}: ${seconds.toFixed(1)} s`);
    },
    onProgress: (phase, done, total, detail) => {
      if (bar?.phase !== phase) {
        bar?.reporter.stop();
        bar = { phase, reporter: createProgress(o.progress, phase.startsWith('train') ? 'steps' : 'images') };
      }
      bar.reporter.update({ phase, done, total, detail });
    },
  });
  if (o.out) fs.writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  if (o.json) return printJson(report);
  const d = report.data;
  const rows = [['method', 'R@1', 'R@5', 'R@10', 'add', 'remove', 'colour', 'size', 'shape']];
  for (const m of report.methods) {
    const k = m.recallAt1ByKind;
    rows.push([m.name, f3(m.recallAt1), f3(m.recallAt5), f3(m.recallAt10), f3(k.add), f3(k.remove), f3(k.colour), f3(k.size), f3(k.shape)]);
  }
  const phases = Object.entries(report.seconds)
    .filter(([k]) => k !== 'total')
    .map(([k, s]) => `${k} ${s.toFixed(1)} s`)
    .join(', ');
  process.stdout.write(
    `${report.protocol}\n` +
      `train: ${d.train.queries} queries over ${d.train.images} images; test: ${d.test.queries} queries, gallery of ${d.test.images} images; ` +
      `${d.imageSize}×${d.imageSize} px, seed ${d.seed}; image encoder: ${report.encoder}\n\n` +
      `${table(rows)}\n(add … shape: R@1 by modification kind)\n\n` +
      report.methods.map((m) => `${m.name}: ${m.description}`).join('\n') +
      `\n\ntime: ${report.seconds.total.toFixed(1)} s (${phases})\n`,
  );
}
