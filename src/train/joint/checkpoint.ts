import fs from 'node:fs';
import path from 'node:path';
import { MobileNetV2 } from '../../models/mobilenet.js';
import { writeJointFile, type JointHeader } from '../../models/joint-format.js';
import type { TrainedJoint } from './trainer.js';

/** The header a trained model is saved with: architecture, tokenizer, training record. */
export function jointHeader(t: TrainedJoint, name: string, extra: Record<string, unknown> = {}): Omit<JointHeader, 'tensors' | 'weightsSha256' | 'format' | 'version'> {
  return {
    name,
    createdAt: new Date().toISOString(),
    imageModel: MobileNetV2.spec.id,
    architecture: t.architecture,
    tokenizer: t.tokenizer.spec,
    training: {
      config: t.config,
      bestEpoch: t.bestEpoch,
      epochsRun: t.history.length,
      seconds: Math.round(t.seconds),
      dev: t.best ?? null,
      history: t.history.map((h) => ({ epoch: h.epoch, loss: h.loss, seconds: h.seconds, devRsum: h.dev?.rsum })),
      ...extra,
    },
  };
}

/** Saves a trained model as a `.joint` file; returns its sha256. */
export function saveJoint(file: string, t: TrainedJoint, name = path.basename(file).replace(/\.joint$/, ''), extra: Record<string, unknown> = {}): string {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  return writeJointFile(file, jointHeader(t, name, extra), t.tensors);
}

/**
 * Per-epoch checkpoints beside the output: `<out>.ckpt/best.joint` holds the best weights so
 * far (a run stopped early still leaves a usable model) and `history.json` the epoch log.
 */
export function checkpointWriter(out: string): (t: TrainedJoint, epoch: number) => void {
  const dir = `${out}.ckpt`;
  return (t, epoch) => {
    fs.mkdirSync(dir, { recursive: true });
    if (t.bestEpoch === epoch) saveJoint(path.join(dir, 'best.joint'), t, path.basename(out).replace(/\.joint$/, ''));
    fs.writeFileSync(path.join(dir, 'history.json'), `${JSON.stringify(t.history, null, 2)}\n`);
  };
}
