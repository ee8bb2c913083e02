import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { RIG_DIR, rigBinariesMissing, rigState } from './cluster/rig.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/** Fails fast, with a useful message, when ../shared is not beside the checkout. */
function checkShared(): void {
  const shared = path.resolve(ROOT, '..', 'shared');
  const model = path.join(shared, 'models', 'mobilenetv2-12-int8', 'mobilenetv2-12-int8.onnx');
  if (!fs.existsSync(model)) {
    throw new Error(`Tests need the shared models and data sets beside the repository (expected ${model}).`);
  }
}

/** Whether this run includes test/cluster (vitest's file filters match parts of the path; no filter: every test). */
function runsClusterTests(project: TestProject): boolean {
  // Not in vitest's public types: the command line's file filters.
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern;
  if (!filters?.length) return true;
  const dir = path.join(ROOT, 'test', 'cluster');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.test.ts'));
  return files.some((f) => filters.some((p) => path.join(dir, f).includes(p.replace(/^\.\//, ''))));
}

/**
 * Starts the throwaway Ceph + NATS cluster for the cluster tests when none runs (three OSDs, for
 * the replication tests), restarts what died in a rig that runs, and stops it afterwards only when
 * this run started it: a running rig is shared. With Ceph or NATS not installed, nothing starts and the cluster tests fail saying how to
 * install them (test/cluster/rig.ts).
 */
export default function setup(project: TestProject): (() => Promise<void>) | undefined {
  checkShared();
  if (!runsClusterTests(project) || rigBinariesMissing().length) return undefined;
  const state = rigState();
  if (state === 'running') return undefined;
  const t = Date.now();
  const r = spawnSync('bash', [path.join(ROOT, 'scripts', 'cluster', 'start.sh')], {
    env: { ...process.env, VISOR_CLUSTER_OSDS: process.env.VISOR_CLUSTER_OSDS ?? '3', VISOR_CLUSTER_DIR: RIG_DIR },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`could not start the test cluster (scripts/cluster/start.sh exited ${r.status}): see ${RIG_DIR}/log`);
  process.stderr.write(`[cluster] ${state === 'partial' ? 'repaired' : 'started for this run'} in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
  // A rig whose monitor already ran is someone else's: leave it running.
  if (state === 'partial') return undefined;
  // Asynchronous: a blocked main process could not see the test workers exit.
  return () =>
    new Promise<void>((resolve) => {
      spawn('bash', [path.join(ROOT, 'scripts', 'cluster', 'stop.sh')], { env: { ...process.env, VISOR_CLUSTER_DIR: RIG_DIR }, stdio: 'inherit' }).on(
        'close',
        () => resolve(),
      );
    });
}
