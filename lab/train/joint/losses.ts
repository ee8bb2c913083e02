import type * as TF from '@tensorflow/tfjs';
import type { Tf } from '../../../src/models/tf-runtime.js';

export type LossName = 'vse' | 'infonce';

/**
 * Both losses take a batch of matching pairs (row i of `im` goes with row i of `tx`, all
 * L2-normalised) and use every other row of the batch as a negative.
 */

/**
 * VSE++ (Faghri et al., 2018): hinge triplet loss on the hardest negative of each query, in
 * both directions. Only the hardest negative counts, which is what ranking at R@1 rewards.
 */
export function vseHardestNegative(tf: Tf, im: TF.Tensor2D, tx: TF.Tensor2D, margin: number): TF.Scalar {
  return tf.tidy(() => {
    const n = im.shape[0];
    const s = tf.matMul(im, tx, false, true); // s[i, j] = image i · caption j
    const pos = tf.reshape(tf.sum(tf.mul(im, tx), 1), [n, 1]);
    // The matching pair must not count as its own negative.
    const offDiag = tf.sub(1, tf.eye(n));
    const costCaption = tf.mul(tf.relu(tf.add(tf.sub(s, pos), margin)), offDiag); // captions ranked for image i
    const costImage = tf.mul(tf.relu(tf.add(tf.sub(s, tf.transpose(pos)), margin)), offDiag); // images ranked for caption j
    return tf.mean(tf.add(tf.max(costCaption, 1), tf.max(costImage, 0))) as TF.Scalar;
  });
}

/**
 * Symmetric InfoNCE (CLIP): cross-entropy of each image over the batch's captions and of each
 * caption over the images, with the similarities scaled by a learned temperature
 * (exp(logitScale), capped at 100 as in CLIP so it cannot blow up).
 */
export function symmetricInfoNce(tf: Tf, im: TF.Tensor2D, tx: TF.Tensor2D, logitScale: TF.Tensor): TF.Scalar {
  return tf.tidy(() => {
    const n = im.shape[0];
    const scale = tf.exp(tf.minimum(logitScale, Math.log(100)));
    const logits = tf.mul(tf.matMul(im, tx, false, true), scale) as TF.Tensor2D;
    const diag = tf.sum(tf.mul(logits, tf.eye(n)), 1);
    const rows = tf.sub(tf.logSumExp(logits, 1), diag);
    const cols = tf.sub(tf.logSumExp(logits, 0), diag);
    return tf.mul(tf.add(tf.mean(rows), tf.mean(cols)), 0.5) as TF.Scalar;
  });
}
