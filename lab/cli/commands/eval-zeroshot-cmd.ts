import fs from 'node:fs';
import { VisorError } from '../../../src/errors.js';
import { printJson, table } from '../../../src/cli/output.js';
import { createProgress } from '../../../src/cli/progress.js';
import type { EvalCommandOptions } from '../eval-options.js';

const f4 = (x: number) => x.toFixed(4);

/** `visor-lab eval cifar10-zeroshot`, `visor-lab eval flickr8k --zero-shot`, `visor-lab eval tags`. */
export async function evalZeroShotCommand(dataset: string, o: EvalCommandOptions): Promise<void> {
  const zs = await import('../../eval/zeroshot.js');
  const indexing = createProgress(o.progress);
  const searching = createProgress(o.progress, 'queries');
  const { lexiconOptions } = await import('../../eval/lexicon-options.js');
  const progress = {
    ...lexiconOptions(o),
    db: o.db,
    limit: o.limit,
    textModel: o.textModel,
    rerank: o.rerank,
    onIndexProgress: (p: { phase: string; done: number; total: number }) =>
      p.phase === 'embedding' && indexing.update({ phase: 'indexing', done: p.done, total: p.total }),
    onSearchProgress: (done: number, total: number) => {
      indexing.stop();
      searching.update({ phase: 'searching', done, total });
    },
  };
  let report: object;
  let text: string;
  try {
    if (dataset === 'cifar10-zeroshot') {
      const r = await zs.evalCifar10ZeroShot({ ...progress, ...(o.facts === false ? { facts: [] } : {}) });
      report = r;
      text =
        `${r.protocol}\n${r.images} images\n\n` +
        `${table([['query', 'read as', 'ImageNet classes', 'AP'], ...r.queries.map((q) => [q.name, q.concept, String(q.imagenetClasses), f4(q.ap)])])}\n\n` +
        (r.notUnderstood.length ? `not understood by any signal (ranked nothing, their images count as missed): ${r.notUnderstood.join(', ')}\n` : '') +
        `accuracy ${f4(r.metrics.accuracy)}   mAP ${f4(r.metrics.map)}   P@100 ${f4(r.metrics.precisionAt100)}\n\n` +
        `what calibration and visual expansion each do (accuracy / mAP):\n` +
        `${table([
          ['', 'no expansion', 'with expansion'],
          [
            'raw probabilities',
            `${f4(r.ablation.raw.accuracy)} / ${f4(r.ablation.raw.map)}`,
            `${f4(r.ablation.rawExpanded.accuracy)} / ${f4(r.ablation.rawExpanded.map)}`,
          ],
          [
            'calibrated',
            `${f4(r.ablation.calibrated.accuracy)} / ${f4(r.ablation.calibrated.map)}`,
            `${f4(r.ablation.calibratedExpanded.accuracy)} / ${f4(r.ablation.calibratedExpanded.map)}`,
          ],
        ])}\n\n` +
        `time: indexing ${r.seconds.index.toFixed(1)} s, searching ${r.seconds.search.toFixed(1)} s\n`;
    } else if (dataset === 'flickr8k') {
      if (!o.zeroShot) throw new VisorError('QUERY_INVALID', 'flickr8k needs --zero-shot (or a trained text model)');
      const { parseWeights } = await import('../../../src/cli/search-options.js');
      const r = await zs.evalFlickr8kZeroShot({
        ...progress,
        split: o.split,
        weights: parseWeights(o.weights),
        fusion: o.fusion,
        ...(o.facts === false ? { facts: [] } : {}),
      });
      report = r;
      const t = r.textToImage;
      text =
        `${r.protocol}\n${r.captions} captions, ${r.images} images, ${r.notUnderstood} captions not understood (ranked last)\n\n` +
        `${table([
          ['R@1', t.r1.toFixed(1)],
          ['R@5', t.r5.toFixed(1)],
          ['R@10', t.r10.toFixed(1)],
          ['median rank', String(t.medianRank)],
          ['mean rank', t.meanRank.toFixed(1)],
        ])}\n\n` +
        `captions each signal understood:\n${table(Object.entries(r.understood).map(([name, share]) => [name, `${(100 * share).toFixed(1)} %`]))}\n\n` +
        `time: indexing ${r.seconds.index.toFixed(1)} s, searching ${r.seconds.search.toFixed(1)} s\n`;
    } else {
      const r = await zs.evalTags({ ...progress, split: o.split, k: o.k });
      report = r;
      text =
        `${r.protocol}\n${r.images} images\n\n` +
        `top-${r.k} tags include a caption noun (hypernyms count): ${f4(r.hitRate)}\n` +
        `strict (a caption noun or a kind of one):          ${f4(r.strictHitRate)}\n` +
        `most frequent hits: ${r.topHits.map((h) => `${h.tag} (${h.images})`).join(', ')}\n\nexamples:\n` +
        r.examples.map((e) => `  ${e.image} ${e.hit ? 'hit ' : 'miss'}  tags: ${e.tags.join(', ')}\n      caption nouns: ${e.nouns.join(', ')}`).join('\n') +
        `\n\ntime: indexing ${r.seconds.index.toFixed(1)} s, tagging ${r.seconds.tagging.toFixed(1)} s\n`;
    }
  } finally {
    indexing.stop();
    searching.stop();
  }
  if (o.out) fs.writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  if (o.json) printJson(report);
  else process.stdout.write(text);
}
