import fs from 'node:fs';
import { Collection } from '../../collection.js';
import type { DuplicateReport, KeepRule, RemovalStep } from '../../duplicates/groups.js';
import { displayPath, formatBytes, prepareOutFile, printJson } from '../output.js';
import { createProgress, type ProgressMode } from '../progress.js';
import type { GlobalOptions } from '../run.js';

export interface DuplicatesCommandOptions extends GlobalOptions {
  threshold?: number;
  report?: string;
  progress?: ProgressMode;
}

const describe = (i: { path: string; width: number; height: number; bytes: number }) => `${displayPath(i.path)}  ${i.width}×${i.height}  ${formatBytes(i.bytes)}`;

async function findGroups(c: Collection, o: DuplicatesCommandOptions): Promise<DuplicateReport> {
  const progress = createProgress(o.progress ?? 'auto', 'pairs');
  try {
    return await c.duplicates({
      threshold: o.threshold,
      onProgress: (p) => progress.update({ phase: p.phase === 'candidates' ? 'nearest neighbours' : 'comparing', done: p.done, total: p.total }),
    });
  } finally {
    progress.stop();
  }
}

function printSkipped(r: DuplicateReport): void {
  for (const s of r.skipped) process.stderr.write(`visor: ${displayPath(s.path)}: left out (${s.reason})\n`);
}

/** `visor duplicates`: groups of near-duplicate images in the collection, each with a confidence. */
export async function duplicatesCommand(o: DuplicatesCommandOptions): Promise<void> {
  const reportFile = o.report ? prepareOutFile(o.report, '--report') : undefined;
  const c = await Collection.open({ db: o.db });
  try {
    const r = await findGroups(c, o);
    if (reportFile) {
      const { duplicatesPage } = await import('../../duplicates/report-html.js');
      fs.writeFileSync(reportFile, await duplicatesPage(r));
    }
    if (o.json) return printJson(r);
    r.groups.forEach((g, n) => {
      process.stdout.write(`group ${n + 1}: ${g.items.length} images, confidence ${g.confidence.toFixed(2)}\n`);
      for (const i of g.items) process.stdout.write(`  ${describe(i)}\n`);
    });
    const copies = r.groups.reduce((s, g) => s + g.items.length - 1, 0);
    process.stdout.write(
      `${r.groups.length} group${r.groups.length === 1 ? '' : 's'} of copies (${copies} image${copies === 1 ? '' : 's'} beyond the first of each) among ${r.items} images; ` +
        `${r.checked} of ${r.candidates} candidate pairs compared in ${r.seconds.toFixed(1)} s\n`,
    );
    if (reportFile) process.stdout.write(`report: ${displayPath(reportFile)}\n`);
    printSkipped(r);
  } finally {
    await c.close();
  }
}

export interface RemoveDuplicatesOptions extends GlobalOptions {
  keep: KeepRule;
  dryRun?: boolean;
  threshold?: number;
  progress?: ProgressMode;
}

/** `visor remove --duplicates`: keeps one image of each group (the largest or the oldest) and removes the others from the index. */
export async function removeDuplicatesCommand(o: RemoveDuplicatesOptions): Promise<void> {
  const c = await Collection.open({ db: o.db });
  try {
    const progress = createProgress(o.progress ?? 'auto', 'pairs');
    let r: { plan: RemovalStep[]; removed: { removedPaths: number; removedItems: number } | null };
    try {
      r = await c.removeDuplicates({
        keep: o.keep,
        dryRun: o.dryRun,
        threshold: o.threshold,
        onProgress: (p) => progress.update({ phase: p.phase === 'candidates' ? 'nearest neighbours' : 'comparing', done: p.done, total: p.total }),
      });
    } finally {
      progress.stop();
    }
    if (o.json) return printJson({ dryRun: !!o.dryRun, keep: o.keep, ...r });
    const verb = o.dryRun ? 'would remove' : 'removed';
    for (const step of r.plan) {
      process.stdout.write(`keep    ${describe(step.keep)}\n`);
      for (const x of step.remove) process.stdout.write(`${o.dryRun ? 'remove? ' : 'remove  '}${describe(x)}\n`);
    }
    const n = r.plan.reduce((s, p) => s + p.remove.length, 0);
    process.stdout.write(
      `${o.dryRun ? 'Dry run: ' : ''}${verb} ${n} image${n === 1 ? '' : 's'} from the index (${r.plan.length} group${r.plan.length === 1 ? '' : 's'}, keeping the ${o.keep} of each); the files themselves are untouched.\n`,
    );
  } finally {
    await c.close();
  }
}
