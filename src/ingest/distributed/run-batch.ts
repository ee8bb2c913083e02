import type { BatchFile, BatchResult, FileResult } from '../../queue/ingest-messages.js';
import type { BatchVerdict, DeliveredBatch } from '../../queue/batch-consumer.js';
import type { ItemWithVectors, VectorStore } from '../../store/port.js';
import { mapUnordered } from '../concurrent.js';
import type { EmbedPool } from '../embed-pool.js';
import { readAndHash } from '../read-image.js';
import { storedRow } from '../stored-row.js';
import type { Claim, Claims } from './claims.js';

export interface BatchDeps {
  store: Pick<VectorStore, 'refresh' | 'getItems' | 'insert'>;
  pool: (maxPixels: number) => Promise<EmbedPool>;
  claims: Claims;
  worker: string;
}

/** How long a batch waits for content another batch claimed to be stored, before asking to be run again later. */
const PENDING_WAIT_MS = 20_000;
/** When the batch is asked for again, if content it waits on is still missing. */
export const RETRY_IN_MS = 5_000;
/** Files read and hashed at once. */
const READ_AHEAD = 8;
/** Claims asked of the object store at once. */
const CLAIMS_AT_ONCE = 16;

interface Content {
  files: BatchFile[];
  bytes: Buffer;
}

/**
 * Does one batch: reads and hashes its files; content already stored is reported `known`;
 * new content is claimed, and only the winner of a claim embeds and stores it (one insert
 * per batch); content claimed by another batch is waited for, then reported `known`. Returns
 * the result to publish, or a retry when content it waits on is still missing (the batch's own
 * items are stored by then, and found as its own when it runs again).
 */
export async function runBatch(deps: BatchDeps, d: DeliveredBatch): Promise<{ verdict: BatchVerdict; result: BatchResult | null }> {
  const started = performance.now();
  const { batch: b } = d;
  const mine: Claim = { job: b.job, batch: b.batch, seq: d.seq, worker: deps.worker };
  const out: FileResult[] = [];
  const contents = new Map<string, Content>();
  for await (const r of mapUnordered(b.files, READ_AHEAD, async (f) => ({ f, r: await readAndHash(f.path, f.size, b.maxFileBytes) }))) {
    if (r.r.kind === 'failed') {
      out.push({ ...r.f, outcome: 'failed', reason: r.r.reason });
      continue;
    }
    const c = contents.get(r.r.id);
    if (c) c.files.push(r.f);
    else contents.set(r.r.id, { files: [r.f], bytes: r.r.bytes });
  }
  // Paths in the batch's order, so the first of several with the same bytes is the one shown.
  const order = new Map(b.files.map((f, i) => [f.path, i]));
  for (const c of contents.values()) c.files.sort((x, y) => order.get(x.path)! - order.get(y.path)!);

  const report = (id: string, c: Content, stored: boolean) =>
    c.files.forEach((f, i) => out.push({ ...f, outcome: stored ? (i === 0 ? 'embedded' : 'joined') : 'known', id }));

  const phases = { read: 0, lookup: 0, claim: 0, embed: 0, commit: 0 };
  let mark = performance.now();
  const lap = (phase: keyof typeof phases) => {
    const now = performance.now();
    phases[phase] += (now - mark) / 1000;
    mark = now;
  };
  lap('read');
  await deps.store.refresh();
  const existing = new Set((await deps.store.getItems([...contents.keys()])).map((i) => i.id));
  lap('lookup');
  const toEmbed: string[] = [];
  const pending = new Map<string, string>(); // id → the batch it waits on
  // Each claim is a round trip to the object store: many at once, not one after another.
  const decided = mapUnordered([...contents], CLAIMS_AT_ONCE, async ([id, c]) => {
    if (existing.has(id)) return { id, c, stored: true as const, holder: await deps.claims.holder(id) };
    return { id, c, stored: false as const, holder: await deps.claims.claim(id, mine) };
  });
  for await (const x of decided) {
    const { id, c } = x;
    if (x.stored) {
      // Stored by this very batch (an earlier delivery, or a copy of it): count it as this batch's.
      report(id, c, x.holder?.batch === b.batch);
      continue;
    }
    const holder = x.holder;
    // Won, or held by an earlier delivery of this same message (whose worker died before storing it).
    if (holder === null || (holder !== 'unreadable' && holder.seq === d.seq && holder.batch === b.batch)) toEmbed.push(id);
    else pending.set(id, holder === 'unreadable' ? 'another batch' : `batch ${holder.batch}`);
  }
  lap('claim');

  const rows: ItemWithVectors[] = [];
  if (toEmbed.length > 0) {
    const pool = await deps.pool(b.maxPixels);
    const embedded = await Promise.all(toEmbed.map(async (id) => ({ id, r: await pool.embed(id, contents.get(id)!.bytes) })));
    lap('embed');
    for (const { id, r } of embedded) {
      const c = contents.get(id)!;
      if (r.ok) {
        const first = c.files[0]!;
        rows.push(storedRow(id, c.files, first.meta ?? {}, r));
        report(id, c, true);
      } else {
        // Not stored: another batch with these bytes may claim them, and will report its own failure.
        await deps.claims.release(id);
        for (const f of c.files) out.push({ ...f, outcome: 'failed', reason: r.reason });
      }
    }
    // One atomic commit: after a crash either the batch's items are all stored or none are.
    if (rows.length > 0) await deps.store.insert(rows);
    lap('commit');
  }

  // Content another batch is embedding: wait for it to be stored, then attach these paths to it.
  const deadline = Date.now() + PENDING_WAIT_MS;
  while (pending.size > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1_000));
    await deps.store.refresh();
    for (const item of await deps.store.getItems([...pending.keys()])) {
      pending.delete(item.id);
      report(item.id, contents.get(item.id)!, false);
    }
  }
  if (pending.size > 0 && !d.last) return { verdict: { done: false, retryInMs: RETRY_IN_MS }, result: null };
  for (const [id, waitedOn] of pending) {
    for (const f of contents.get(id)!.files)
      out.push({ ...f, outcome: 'failed', reason: `the same image was being indexed by ${waitedOn}, which did not finish` });
  }
  out.sort((x, y) => order.get(x.path)! - order.get(y.path)!);
  return {
    verdict: { done: true },
    result: { job: b.job, batch: b.batch, worker: deps.worker, seconds: (performance.now() - started) / 1000, phases, files: out },
  };
}
