import fs from 'node:fs/promises';
import type { CollectionIndexSummary } from '../../collection.js';
import { VisorError } from '../../errors.js';
import { displayPath } from '../output.js';
import type { ProgressMode } from '../progress.js';
import type { GlobalOptions } from '../run.js';

export interface IndexCommandOptions extends GlobalOptions {
  hidden?: boolean;
  allFiles?: boolean;
  batchSize?: number;
  workers?: number;
  maxPixels?: number;
  maxFileMb?: number;
  textModel?: string;
  /** The main image model of a new collection. */
  model?: string;
  /** A further embedding space to fill beside the main features. */
  space?: string;
  /** Fact stages to compute from now on ("objects,colours"; false: --no-facts). */
  facts?: string | false;
  /** How image queries re-rank from now on (diffusion, dba, qe, none). */
  imageRerank?: string;
  /** Shards of a new collection in object storage. */
  shards?: number;
  /** Index through this queue (`--queue` alone: the configured one) with `visor worker` processes doing the embedding. */
  queue?: string | true;
  /** Files per queued batch. */
  batchFiles?: number;
  progress: ProgressMode;
}

const SHOW_SKIPPED = 20;

/** What an indexing run did, for people (stdout). */
export function printSummary(s: CollectionIndexSummary, db: string): void {
  const rate = s.indexed > 0 ? ` (${(s.indexed / s.seconds).toFixed(0)} images/s)` : '';
  const lines = [
    `${s.interrupted ? 'Interrupted: ' : ''}indexed ${s.indexed} new image${s.indexed === 1 ? '' : 's'} in ${s.seconds.toFixed(1)} s${rate}`,
    `  unchanged ${s.unchanged}, duplicates ${s.duplicates}, removed ${s.removed}, skipped ${s.skipped.length}` +
      (s.metadataUpdated ? `, metadata updated ${s.metadataUpdated}` : '') +
      (s.ignored ? `, other files ignored ${s.ignored}` : ''),
  ];
  if (s.skipped.length > 0) {
    lines.push('Skipped:');
    for (const p of s.skipped.slice(0, SHOW_SKIPPED)) lines.push(`  ${displayPath(p.path)}: ${p.reason}`);
    if (s.skipped.length > SHOW_SKIPPED) lines.push(`  … and ${s.skipped.length - SHOW_SKIPPED} more (--json lists all)`);
  }
  for (const sp of s.spaces) {
    lines.push(`Space ${sp.space}: embedded ${sp.embedded} new image${sp.embedded === 1 ? '' : 's'} (${sp.already} already there), skipped ${sp.skipped.length}`);
    for (const p of sp.skipped.slice(0, SHOW_SKIPPED)) lines.push(`  ${displayPath(p.path)}: ${p.reason}`);
  }
  if (s.facts && s.facts.stages.length > 0) {
    const f = s.facts;
    const per = Object.entries(f.perStage).map(([stage, n]) => `${stage} ${n}`);
    lines.push(
      `Facts (${f.stages.join(', ')}): computed ${f.computed}${per.length ? ` (${per.join(', ')})` : ''}` +
        (f.computed > 0 ? ` in ${f.seconds.toFixed(1)} s` : '') +
        `, ${f.already} already had them, skipped ${f.skipped.length}`,
    );
    for (const p of f.skipped.slice(0, SHOW_SKIPPED)) lines.push(`  ${displayPath(p.path)}: ${p.reason}`);
    if (f.skipped.length > SHOW_SKIPPED) lines.push(`  … and ${f.skipped.length - SHOW_SKIPPED} more (--json lists all)`);
    const p = s.facts.people;
    if (p)
      lines.push(
        `People: ${p.faces} face${p.faces === 1 ? '' : 's'} (${p.added} new) in ${p.persons} person${p.persons === 1 ? '' : 's'} ('visor people' lists them)`,
      );
  }
  const g = s.graph;
  if (g && g.how !== 'unchanged')
    lines.push(
      `Neighbour graph: ${g.how} (${g.search} search) for ${g.items} image${g.items === 1 ? '' : 's'} in ${g.seconds.toFixed(1)} s` +
        (g.how === 'updated' ? `: ${g.added} added, ${g.removed} removed, ${g.rowsWritten} rows written` : ''),
    );
  if (s.scanned === 0 && s.skipped.length === 0) {
    // Nothing that looked like an image: say why rather than leave an empty index unexplained.
    lines.push(
      `No image files found${s.ignored ? ` (${s.ignored} other file${s.ignored === 1 ? '' : 's'}: --all-files tries them)` : ''}; hidden files and folders need --hidden.`,
    );
  }
  if (s.interrupted) lines.push('Run the same command again to finish: what was stored is kept.');
  lines.push(`Index: ${db} (${s.totalItems} images)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** A source that is not there is a typo, not a skipped file: say so before an index is created. */
export async function checkSourcesExist(sources: string[]): Promise<void> {
  const missing = [];
  for (const s of sources) if (!(await fs.stat(s).catch(() => null))) missing.push(s);
  if (missing.length === 0) return;
  throw new VisorError(
    'NOT_FOUND',
    `no such file or folder: ${missing.join(', ')} (nothing indexed; to forget images indexed from a folder that is gone, use 'visor remove')`,
  );
}
