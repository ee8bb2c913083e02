import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { connect } from 'nats';
import { Collection } from '../../src/collection.js';
import { BATCH_STREAM, ingestNames } from '../../src/queue/ingest-streams.js';
import { CLI, ROOT } from '../fixtures.js';

export interface Running {
  child: ChildProcess;
  /** Resolves when the process ends, with its exit code (null when killed), signal and output. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** stdout lines so far. */
  lines: string[];
}

/** Starts `visor <args>` without waiting for it. */
export function start(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const lines: string[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    lines.splice(0, lines.length, ...stdout.split('\n').filter(Boolean));
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done, lines };
}

/** A `visor worker` for `db` with one embedding thread, exiting after `idle` seconds of an empty queue. */
export function worker(db: string, queue: string, idle = 10, env: Record<string, string> = {}): Running {
  return start(['--db', db, 'worker', '--queue', queue, '--threads', '1', '--idle-exit', String(idle), '--json'], env);
}

/** Polls until `cond` holds (or fails after `ms`). */
export async function until(cond: () => boolean | Promise<boolean>, ms = 60_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Every stored item with its paths, and whether any content is stored twice. */
export async function contents(db: string, env: Record<string, string> = {}): Promise<{ items: number; paths: Set<string>; ids: string[] }> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const c = await Collection.open({ db });
    try {
      const states = await c.store.fileStates();
      return { items: await c.store.count(), paths: new Set(states.map((s) => s.path)), ids: [...new Set(states.map((s) => s.id))] };
    } finally {
      await c.close();
    }
  } finally {
    process.env = saved;
  }
}

/** The queued batch messages of a collection (read without taking them off the queue). */
export async function queuedBatches(queue: string, db: string): Promise<Uint8Array[]> {
  const nc = await connect({ servers: queue });
  try {
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(BATCH_STREAM);
    const subject = ingestNames(db).batchSubject;
    const out: Uint8Array[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && seq > 0; seq++) {
      const m = await jsm.streams.getMessage(BATCH_STREAM, { seq }).catch(() => null);
      if (m?.subject === subject) out.push(m.data);
    }
    return out;
  } finally {
    await nc.close();
  }
}

/** Batches of a collection delivered to a worker and not yet acked. */
export async function ackPending(queue: string, db: string): Promise<number> {
  const nc = await connect({ servers: queue });
  try {
    return (await (await nc.jetstreamManager()).consumers.info(BATCH_STREAM, ingestNames(db).consumer)).num_ack_pending;
  } finally {
    await nc.close();
  }
}

/** Sends messages to a collection's batch subject again, as copies (no message id: not de-duplicated). */
export async function publishCopies(queue: string, db: string, messages: Uint8Array[]): Promise<void> {
  const nc = await connect({ servers: queue });
  try {
    const js = nc.jetstream();
    for (const m of messages) await js.publish(ingestNames(db).batchSubject, m);
  } finally {
    await nc.close();
  }
}

/** Copies of some files under other names (same bytes), spread over the folder's batches. */
export function addDuplicates(files: string[], every: number): string[] {
  const dups: string[] = [];
  for (let i = 0; i < files.length; i += every) {
    const dest = path.join(path.dirname(files[i]!), `zz-copy-${i}.jpg`);
    fs.copyFileSync(files[i]!, dest);
    dups.push(dest);
  }
  return dups;
}
