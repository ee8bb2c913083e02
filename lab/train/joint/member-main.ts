import { checkpointWriter, saveJoint } from './checkpoint.js';
import type { MemberJob } from './member-process.js';
import { loadTrainingSplits } from './run.js';
import { trainJoint } from './trainer.js';

/**
 * Entry point of a member-training child process (see member-process.ts): trains one network,
 * writes its `.joint`, and reports each epoch as a JSON line on stdout.
 */
const job = JSON.parse(process.argv[2]!) as MemberJob;
const abort = new AbortController();
process.on('SIGINT', () => abort.abort());
// A member whose parent died has no one to hand its result to: stop rather than hold a core.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(1);
}, 2000).unref();
const { train, dev } = await loadTrainingSplits({ train: job.train, dev: job.dev, config: job.config, featureCache: job.featureCache } as Parameters<
  typeof loadTrainingSplits
>[0]);
const checkpoint = checkpointWriter(job.out, 'member');
const trained = await trainJoint(train, dev, job.config, {
  signal: abort.signal,
  onProgress: (p) => {
    if (p.record) process.stdout.write(`${JSON.stringify(p)}\n`);
  },
  onCheckpoint: checkpoint,
});
saveJoint(job.out, trained);
