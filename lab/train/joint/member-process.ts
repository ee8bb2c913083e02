import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJointFile } from '../../../src/models/joint-format.js';
import { parameterShapes } from '../../../src/models/joint-net.js';
import { WordTokenizer } from '../../../src/text/word-tokenizer.js';
import type { EpochRecord, JointTrainConfig, TrainedJoint, TrainProgress } from './trainer.js';

/** What one member-training process is told (as JSON on its command line). */
export interface MemberJob {
  train: unknown;
  dev: unknown;
  config: Partial<JointTrainConfig>;
  /** Where the member's own `.joint` is written (its checkpoints beside it). */
  out: string;
  featureCache?: string;
}

// Beside this module, with its extension: .ts under tsx, .js when built.
const MAIN = fileURLToPath(new URL(`./member-main${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/**
 * Trains one member in a child process. tfjs' WASM backend runs one thread, so members in
 * separate processes use the cores that one process leaves idle. Epoch records come back as
 * JSON lines; the finished member is read back from its file.
 */
export function trainMemberInProcess(job: MemberJob, onRecord: (p: TrainProgress) => void, signal?: AbortSignal): Promise<TrainedJoint> {
  return new Promise((resolve, reject) => {
    // The same runtime flags (tsx's loader) as this process, so the child reads TypeScript too.
    const child = spawn(process.execPath, [...process.execArgv, MAIN, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const stop = () => child.kill('SIGINT');
    signal?.addEventListener('abort', stop, { once: true });
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith('{')) onRecord(JSON.parse(line) as TrainProgress);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      signal?.removeEventListener('abort', stop);
      if (code !== 0 && !fs.existsSync(job.out)) return reject(new Error(`training a member (${job.config.loss}, seed ${job.config.seed}) exited with ${code}`));
      try {
        resolve(readMember(job.out));
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

/** A one-member `.joint` file back as the trainer's result. */
export function readMember(file: string): TrainedJoint {
  const { header, tensors } = readJointFile(file);
  const m = header.members[0]!;
  const training = (m.training ?? {}) as {
    config: JointTrainConfig;
    bestEpoch: number;
    seconds: number;
    dev: TrainedJoint['best'] | null;
    history: EpochRecord[];
  };
  // The file keeps each epoch's dev R-sum, not its full report.
  const history = training.history.map((h): EpochRecord => ({ epoch: h.epoch, loss: h.loss, seconds: h.seconds }));
  const out: TrainedJoint['tensors'] = new Map();
  for (const [name, shape] of Object.entries(parameterShapes(m.architecture))) out.set(name, { shape, data: tensors.get(m.prefix + name)! });
  return {
    architecture: m.architecture,
    tokenizer: new WordTokenizer(m.tokenizer),
    tensors: out,
    history,
    bestEpoch: training.bestEpoch,
    best: training.dev ?? undefined,
    seconds: training.seconds,
    config: training.config,
  };
}
