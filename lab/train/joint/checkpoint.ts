import fs from 'node:fs';
import path from 'node:path';
import { MobileNetV2 } from '../../../src/models/mobilenet.js';
import { writeJointFile, type JointHeader, type JointMember } from '../../../src/models/joint-format.js';
import type { TrainedJoint } from './trainer.js';

type Tensors = Map<string, { shape: number[]; data: Float32Array }>;

function memberTraining(t: TrainedJoint): Record<string, unknown> {
  return {
    config: t.config,
    bestEpoch: t.bestEpoch,
    epochsRun: t.history.length,
    seconds: Math.round(t.seconds),
    dev: t.best ?? null,
    history: t.history.map((h) => ({ epoch: h.epoch, loss: h.loss, seconds: h.seconds, devRsum: h.dev?.rsum })),
  };
}

/**
 * The header and tensors of a model made of one or more trained networks (an ensemble is
 * the concatenation of their unit vectors; see joint-format.ts).
 */
export function jointModelParts(
  members: readonly TrainedJoint[],
  name: string,
  training: Record<string, unknown> = {},
): { header: Omit<JointHeader, 'tensors' | 'weightsSha256' | 'format' | 'version'>; tensors: Tensors } {
  const tensors: Tensors = new Map();
  const specs: JointMember[] = members.map((t, i) => {
    const prefix = `m${i}.`;
    for (const [k, v] of t.tensors) tensors.set(prefix + k, v);
    return { prefix, architecture: t.architecture, tokenizer: t.tokenizer.spec, training: memberTraining(t) };
  });
  return {
    header: {
      name,
      createdAt: new Date().toISOString(),
      imageModel: MobileNetV2.spec.id,
      dimension: members.reduce((s, t) => s + t.architecture.dimension, 0),
      members: specs,
      training,
    },
    tensors,
  };
}

/** Saves trained network(s) as one `.joint` file; returns its sha256. */
export function saveJoint(
  file: string,
  members: TrainedJoint | readonly TrainedJoint[],
  name = path.basename(file).replace(/\.joint$/, ''),
  training: Record<string, unknown> = {},
): string {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const { header, tensors } = jointModelParts(Array.isArray(members) ? members : [members as TrainedJoint], name, training);
  return writeJointFile(file, header, tensors);
}

/**
 * Per-epoch checkpoints beside the output: `<out>.ckpt/<tag>.best.joint` holds the best weights
 * so far (a run stopped early still leaves a usable model) and `<tag>.history.json` the epoch log.
 */
export function checkpointWriter(out: string, tag: string): (t: TrainedJoint, epoch: number) => void {
  const dir = `${out}.ckpt`;
  return (t, epoch) => {
    fs.mkdirSync(dir, { recursive: true });
    if (t.bestEpoch === epoch) saveJoint(path.join(dir, `${tag}.best.joint`), t, `${path.basename(out).replace(/\.joint$/, '')}-${tag}`);
    fs.writeFileSync(path.join(dir, `${tag}.history.json`), `${JSON.stringify(t.history, null, 2)}\n`);
  };
}
