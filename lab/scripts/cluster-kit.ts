/**
 * Shared pieces of the cluster acceptance scripts (osd-failure.ts, visibility.ts): running the
 * built CLI, the rig's OSDs (scripts/cluster/osd.sh), query nodes, cleanup, percentiles.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { resolvePaths } from '../../src/config.js';
import { objectKey, parseLocation } from '../../src/store/location.js';
import { S3Objects } from '../../src/store/s3/s3-objects.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const OSD_SH = path.join(ROOT, 'scripts', 'cluster', 'osd.sh');
const CONF = `${process.env.VISOR_CLUSTER_DIR ?? '/tmp/visor-cluster'}/ceph.conf`;

export interface Proc {
  child: ChildProcess;
  /** stdout lines so far, each with the time (performance.now()) it arrived. */
  lines: Array<{ t: number; text: string }>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Starts `visor <args>` as a child process, timing each line it prints. */
export function visor(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Proc['lines'] = [];
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    const t = performance.now();
    stdout += d.toString();
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    for (const text of parts) if (text) lines.push({ t, text });
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return { child, lines, done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))) };
}

/** A fresh collection address under the rig's bucket (or the given s3:// base). */
export function freshCollection(base: string, label: string): string {
  return `${base.replace(/\/+$/, '')}/${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Runs scripts/cluster/osd.sh (kill N, start N, status) without blocking this process's event loop; throws on failure. */
export async function osd(...args: string[]): Promise<string> {
  const child = spawn('bash', [OSD_SH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`osd.sh ${args.join(' ')} failed: ${out}`);
  return out.trim();
}

/** A `ceph` command's output, or null when it failed (asynchronous: query timings go on meanwhile). */
async function ceph(args: string[]): Promise<string | null> {
  const child = spawn('ceph', ['-c', CONF, ...args], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000 });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return code === 0 ? out : null;
}

/** OSD ids the monitor has up, of how many it knows. */
export async function osdsUp(): Promise<{ up: number; total: number }> {
  const s = JSON.parse((await ceph(['osd', 'stat', '-f', 'json'])) ?? '{}') as { num_up_osds?: number; num_osds?: number };
  return { up: s.num_up_osds ?? 0, total: s.num_osds ?? 0 };
}

/**
 * Whether every placement group is active and clean on every OSD (no recovery or backfill
 * running). Asked of each OSD's admin socket: the rig runs no manager, so `ceph pg` cannot tell.
 */
export async function clusterClean(osds = 3): Promise<boolean> {
  for (let n = 0; n < osds; n++) {
    const out = await ceph(['daemon', `osd.${n}`, 'dump_pgstate_history']);
    if (!out) return false;
    const pgs = (JSON.parse(out) as { pgs: Array<{ currently: string }> }).pgs;
    if (!pgs.every((p) => p.currently === 'Started/Primary/Active/Clean' || p.currently === 'Started/ReplicaActive/RepNotRecovering')) return false;
  }
  return true;
}

/** Waits until all `osds` are up and (with `clean`) recovered; returns the seconds waited. */
export async function waitHealthy(osds = 3, clean = true, timeoutMs = 600_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if ((await osdsUp()).up >= osds && (!clean || (await clusterClean(osds)))) return (performance.now() - t0) / 1000;
    if (performance.now() - t0 > timeoutMs) throw new Error(`the rig is not healthy after ${timeoutMs / 1000} s: ${await osd('status')}`);
    await sleep(500);
  }
}

/** Deletes every object of a collection (memstore OSDs keep everything in RAM). */
export async function deleteCollection(db: string): Promise<number> {
  const loc = parseLocation(db, resolvePaths().s3);
  if (loc.kind !== 's3') return 0;
  const objects = new S3Objects(loc);
  try {
    const keys = await objects.list(objectKey(loc, ''));
    for (const o of keys) await objects.delete(o.key);
    return keys.length;
  } finally {
    objects.close();
  }
}

/** Starts `visor serve` on any free port; resolves with its URL once it listens. */
export async function serve(db: string, extra: string[] = [], env: Record<string, string> = {}): Promise<Proc & { url: string }> {
  const p = visor(['--db', db, 'serve', '--port', '0', '--json', ...extra], env);
  const deadline = performance.now() + 120_000;
  while (!p.lines.length) {
    if (p.child.exitCode !== null) throw new Error(`visor serve exited: ${(await p.done).stderr}`);
    if (performance.now() > deadline) throw new Error('visor serve did not start within 120 s');
    await sleep(100);
  }
  return { ...p, url: (JSON.parse(p.lines[0]!.text) as { url: string }).url };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The q-quantile (0–1) of the values, nearest rank. */
export function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : '–');
