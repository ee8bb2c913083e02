import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';

/** The throwaway cluster scripts/cluster/start.sh runs (Ceph's S3 gateway and a NATS server on loopback). */
export interface Rig {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  nats: string;
}

export const RIG_DIR = process.env.VISOR_CLUSTER_DIR ?? '/tmp/visor-cluster';

/** The programs start.sh needs that are not installed. */
export function rigBinariesMissing(): string[] {
  return ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'ceph', 'monmaptool', 'nats-server', 'curl'].filter(
    (b) => spawnSync('sh', ['-c', `command -v ${b}`], { stdio: 'ignore' }).status !== 0,
  );
}

function pidAlive(file: string): boolean {
  try {
    process.kill(Number(fs.readFileSync(file, 'utf8').trim()), 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * 'running': settings written, and its monitor, every OSD, the gateway and NATS alive; 'partial':
 * its monitor runs but something else died (start.sh restarts it); 'stopped': nothing to use.
 */
export function rigState(): 'running' | 'partial' | 'stopped' {
  const run = `${RIG_DIR}/run`;
  if (!fs.existsSync(run) || !pidAlive(`${run}/mon.a.pid`)) return 'stopped';
  const osds = fs.readdirSync(run).filter((f) => /^osd\.\d+\.pid$/.test(f));
  const all = fs.existsSync(`${RIG_DIR}/env.json`) && osds.length > 0 && ['client.rgw.pid', 'nats.pid', ...osds].every((f) => pidAlive(`${run}/${f}`));
  return all ? 'running' : 'partial';
}

/** The running rig's settings; fails, saying how to start it (or install it), when none runs. */
export function rig(): Rig {
  const file = `${RIG_DIR}/env.json`;
  if (!fs.existsSync(file)) {
    const missing = rigBinariesMissing();
    if (missing.length)
      throw new Error(`the cluster tests need Ceph and NATS (missing: ${missing.join(', ')}): install them with 'sudo bash scripts/cluster/install.sh'`);
    throw new Error(`no test cluster running (${file} missing): start it with 'bash scripts/cluster/start.sh'`);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Rig;
}

/** Environment for a child process (or this one) to reach the rig with the AWS_* variables and VISOR_QUEUE. */
export function rigEnv(r: Rig = rig()): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: r.endpoint,
    AWS_REGION: r.region,
    AWS_ACCESS_KEY_ID: r.accessKeyId,
    AWS_SECRET_ACCESS_KEY: r.secretAccessKey,
    AWS_ALLOW_HTTP: 'true',
    VISOR_QUEUE: r.nats,
  };
}

/** A fresh collection address in the rig's bucket, unique to one test. */
export function freshDb(r: Rig = rig(), label = 'test'): string {
  return `s3://${r.bucket}/${label}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
