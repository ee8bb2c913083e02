import fs from 'node:fs';
import { printJson, table } from '../../../src/cli/output.js';
import { createProgress } from '../../../src/cli/progress.js';
import type { EvalCommandOptions } from '../eval-options.js';

const f3 = (x: number) => x.toFixed(3);

/** `visor-lab eval ocr`: the text reader on words rendered onto photos, and on photos with none. */
export async function evalOcrCommand(o: EvalCommandOptions): Promise<void> {
  const { evalOcr } = await import('../../eval/ocr.js');
  const progress = createProgress(o.progress, 'images');
  const r = await evalOcr({
    limit: o.limit,
    distractors: o.distractors,
    minScore: o.minScore,
    minSide: o.minSide,
    keep: o.keep,
    readsCache: o.reads,
    onProgress: (phase, done, total) => progress.update({ phase, done, total }),
  });
  progress.stop();
  if (o.out) fs.writeFileSync(o.out, `${JSON.stringify(r, null, 2)}\n`);
  if (o.json) return printJson(r);
  const row = (name: string, f: { images: number; charAccuracy: number; exact: number; r1: number }) => [
    name,
    String(f.images),
    f3(f.charAccuracy),
    f3(f.exact),
    f3(f.r1),
  ];
  process.stdout.write(
    `${r.protocol}\nreader ${r.reader}, confidence ≥ ${r.minScore}, detector input ${r.settings.minSide}–${r.settings.maxSide} px, unclip ${r.settings.unclipRatio}; ` +
      `${r.testImages} photos with a word, ${r.distractors} distractors\n\n` +
      `${table([
        ['word size', 'images', 'char accuracy', 'read exactly', 'R@1'],
        ...r.bands.map((b) => row(b.band, b)),
        row('≥ 20 px (target R@1 ≥ 0.90)', r.atLeast20px),
        row('all', r.all),
      ])}\n\n` +
      `R@1 with exact tokens only (no stemming, no near misses): ${f3(r.exactTokens.r1AtLeast20px)} for words ≥ 20 px, ${f3(r.exactTokens.r1)} for all\n` +
      `distractors with text kept: ${f3(r.falseTextRate)} (real text in the photos counts too: look at the examples in the JSON report; target for invented text ≤ 0.02)\n\n` +
      `${table([
        ['min score', 'distractors with text', 'R@1', 'R@1 ≥ 20 px', 'char accuracy'],
        ...r.sweep.map((s) => [String(s.minScore), f3(s.falseTextRate), f3(s.r1), f3(s.r1AtLeast20px), f3(s.charAccuracy)]),
      ])}\n\n` +
      `ms per image: detection ${r.ms.det.toFixed(1)}, recognition ${r.ms.rec.toFixed(1)}, total ${r.ms.total.toFixed(1)} ` +
      `(photos with a word ${r.ms.testTotal.toFixed(1)}, distractors ${r.ms.distractorTotal.toFixed(1)}, p95 ${r.ms.p95.toFixed(1)})\n` +
      (r.cpuMs ? `CPU ms per image: detection ${r.cpuMs.det.toFixed(1)}, recognition ${r.cpuMs.rec.toFixed(1)} (${r.cpuMs.images} images)\n` : '') +
      `time: ${r.seconds.total.toFixed(0)} s (rendering ${r.seconds.generate.toFixed(0)} s, reading ${r.seconds.read.toFixed(0)} s)\n`,
  );
}
