import type * as TF from '@tensorflow/tfjs';
import type { Tf } from './tf-runtime.js';

/**
 * The joint embedding network: an image head over frozen image-model outputs and a text
 * encoder over token ids, both ending L2-normalised in one D-dimensional space. The same
 * forward code serves training (under tf.grad) and inference, so they cannot drift apart.
 */
export interface JointArchitecture {
  /** Dimension of the shared space. */
  dimension: number;
  image: {
    featureDim: number;
    /** Class probabilities used as extra input (their square roots), or 0 for none. */
    numClasses: number;
    /** 'linear': one projection; 'mlp': projection plus a residual two-layer MLP. */
    head: 'linear' | 'mlp';
    hidden: number;
  };
  text: {
    vocabSize: number;
    embedDim: number;
    /**
     * Pretrained word vectors per token (`text.words`, vocabSize × wordDim), concatenated with
     * the learned `text.embed`; 0 or absent: none. They give rare and unseen-in-training words
     * the meaning a large corpus gave them.
     */
    wordDim?: number;
    /** How token vectors become one vector: mean, learned attention weights, or a GRU. */
    encoder: 'mean' | 'attn' | 'gru';
    /** GRU state size (the pooled size for 'mean'/'attn' is embedDim). */
    hidden: number;
    head: 'linear' | 'mlp';
  };
}

/** Variables while training, constant tensors once loaded. */
export type Params = Map<string, TF.Tensor>;

/** Parameter shapes: the contract between initialisation, the file format and loading. */
export function parameterShapes(a: JointArchitecture): Record<string, number[]> {
  const inDim = a.image.featureDim + a.image.numClasses;
  const D = a.dimension;
  const s: Record<string, number[]> = {
    'image.norm.mean': [inDim],
    'image.norm.invStd': [inDim],
    'image.proj.w': [inDim, D],
    'image.proj.b': [D],
    'text.embed': [a.text.vocabSize, a.text.embedDim],
    logitScale: [],
  };
  if (a.image.head === 'mlp') {
    s['image.mlp.w1'] = [inDim, a.image.hidden];
    s['image.mlp.b1'] = [a.image.hidden];
    s['image.mlp.w2'] = [a.image.hidden, D];
    s['image.mlp.b2'] = [D];
  }
  const E = tokenDim(a);
  if (a.text.wordDim) s['text.words'] = [a.text.vocabSize, a.text.wordDim];
  let pooled = E;
  if (a.text.encoder === 'attn') s['text.attn.w'] = [E, 1];
  if (a.text.encoder === 'gru') {
    const H = a.text.hidden;
    s['text.gru.wx'] = [E, 3 * H];
    s['text.gru.wh'] = [H, 3 * H];
    s['text.gru.b'] = [3 * H];
    pooled = H;
  }
  s['text.proj.w'] = [pooled, D];
  s['text.proj.b'] = [D];
  if (a.text.head === 'mlp') {
    s['text.mlp.w1'] = [pooled, pooled];
    s['text.mlp.b1'] = [pooled];
    s['text.mlp.w2'] = [pooled, D];
    s['text.mlp.b2'] = [D];
  }
  return s;
}

/** Width of one token's vector: the learned embedding plus the pretrained word vector. */
export function tokenDim(a: JointArchitecture): number {
  return a.text.embedDim + (a.text.wordDim ?? 0);
}

/** Which parameters are fixed statistics rather than learned. */
export function isTrainable(name: string): boolean {
  return !name.startsWith('image.norm.');
}

/** The image model's outputs as the head's input: features and √probabilities, standardised. */
export function imageInput(tf: Tf, p: Params, a: JointArchitecture, features: TF.Tensor2D, probs: TF.Tensor2D | null): TF.Tensor2D {
  return tf.tidy(() => {
    let x: TF.Tensor2D = features;
    if (a.image.numClasses > 0) {
      if (!probs) throw new Error('this joint model needs the image model class probabilities');
      x = tf.concat([features, tf.sqrt(tf.relu(probs))], 1);
    }
    return tf.mul(tf.sub(x, p.get('image.norm.mean')!), p.get('image.norm.invStd')!) as TF.Tensor2D;
  });
}

function dense(tf: Tf, p: Params, prefix: string, x: TF.Tensor2D): TF.Tensor2D {
  return tf.add(tf.matMul(x, p.get(`${prefix}.w`)!), p.get(`${prefix}.b`)!) as TF.Tensor2D;
}

function mlpResidual(tf: Tf, p: Params, prefix: string, x: TF.Tensor2D, dropout: number, seed: number): TF.Tensor2D {
  const h = tf.relu(tf.add(tf.matMul(x, p.get(`${prefix}.mlp.w1`)!), p.get(`${prefix}.mlp.b1`)!)) as TF.Tensor2D;
  const hd = dropout > 0 ? (tf.dropout(h, dropout, undefined, seed) as TF.Tensor2D) : h;
  const mlp = tf.add(tf.matMul(hd, p.get(`${prefix}.mlp.w2`)!), p.get(`${prefix}.mlp.b2`)!);
  return tf.add(dense(tf, p, `${prefix}.proj`, x), mlp) as TF.Tensor2D;
}

function l2normalize(tf: Tf, x: TF.Tensor2D): TF.Tensor2D {
  return tf.div(x, tf.add(tf.norm(x, 'euclidean', 1, true), 1e-8)) as TF.Tensor2D;
}

export interface ForwardOptions {
  /** Dropout rate on the pooled inputs of each head (training only). */
  dropout?: number;
  seed?: number;
}

/** Standardised image inputs (see imageInput) → unit vectors in the joint space. */
export function encodeImageInput(tf: Tf, p: Params, a: JointArchitecture, x: TF.Tensor2D, o: ForwardOptions = {}): TF.Tensor2D {
  const drop = o.dropout ?? 0;
  const xd = drop > 0 ? (tf.dropout(x, drop, undefined, o.seed) as TF.Tensor2D) : x;
  const y = a.image.head === 'mlp' ? mlpResidual(tf, p, 'image', xd, drop, (o.seed ?? 0) + 1) : dense(tf, p, 'image.proj', xd);
  return l2normalize(tf, y);
}

/** Padded token ids (n × width) and lengths → unit vectors in the joint space. */
export function encodeTokens(tf: Tf, p: Params, a: JointArchitecture, ids: TF.Tensor2D, lengths: TF.Tensor1D, o: ForwardOptions = {}): TF.Tensor2D {
  const [n, width] = ids.shape;
  const E = tokenDim(a);
  const flat = tf.reshape(ids, [-1]);
  const learned = tf.gather(p.get('text.embed')!, flat);
  const tokens = a.text.wordDim ? tf.concat([learned, tf.gather(p.get('text.words')!, flat)], 1) : learned;
  const emb = tf.reshape(tokens, [n, width, E]) as TF.Tensor3D;
  // mask[i, t] = 1 for real tokens, 0 for padding.
  const mask = tf.cast(tf.less(tf.range(0, width, 1, 'int32').expandDims(0), lengths.expandDims(1)), 'float32') as TF.Tensor2D;
  let pooled: TF.Tensor2D;
  if (a.text.encoder === 'mean') {
    pooled = tf.div(tf.sum(tf.mul(emb, mask.expandDims(2)), 1), tf.sum(mask, 1, true)) as TF.Tensor2D;
  } else if (a.text.encoder === 'attn') {
    const scores = tf.reshape(tf.matMul(tf.reshape(emb, [n * width, E]), p.get('text.attn.w')!), [n, width]);
    const masked = tf.add(scores, tf.mul(tf.sub(1, mask), -1e9));
    const weights = tf.softmax(masked, 1);
    pooled = tf.sum(tf.mul(emb, weights.expandDims(2)), 1) as TF.Tensor2D;
  } else {
    pooled = gruMeanStates(tf, p, a.text.hidden, emb, mask);
  }
  const drop = o.dropout ?? 0;
  const pd = drop > 0 ? (tf.dropout(pooled, drop, undefined, o.seed) as TF.Tensor2D) : pooled;
  const y = a.text.head === 'mlp' ? mlpResidual(tf, p, 'text', pd, drop, (o.seed ?? 0) + 1) : dense(tf, p, 'text.proj', pd);
  return l2normalize(tf, y);
}

/**
 * A GRU over the tokens; the caption vector is the mean of its states over the real tokens
 * (steps past a caption's end keep the previous state and are not counted).
 */
function gruMeanStates(tf: Tf, p: Params, H: number, emb: TF.Tensor3D, mask: TF.Tensor2D): TF.Tensor2D {
  const [n, width, E] = emb.shape;
  // All input projections at once: one large product instead of `width` small ones.
  const xs = tf.reshape(tf.add(tf.matMul(tf.reshape(emb, [n * width, E]), p.get('text.gru.wx')!), p.get('text.gru.b')!), [n, width, 3 * H]);
  const wh = p.get('text.gru.wh')!;
  const whZR = tf.slice(wh, [0, 0], [H, 2 * H]);
  const whN = tf.slice(wh, [0, 2 * H], [H, H]);
  let h = tf.zeros([n, H]) as TF.Tensor2D;
  let sum = tf.zeros([n, H]) as TF.Tensor2D;
  for (let t = 0; t < width; t++) {
    const x = tf.reshape(tf.slice(xs, [0, t, 0], [n, 1, 3 * H]), [n, 3 * H]);
    const zr = tf.sigmoid(tf.add(tf.slice(x, [0, 0], [n, 2 * H]), tf.matMul(h, whZR)));
    const z = tf.slice(zr, [0, 0], [n, H]);
    const r = tf.slice(zr, [0, H], [n, H]);
    const cand = tf.tanh(tf.add(tf.slice(x, [0, 2 * H], [n, H]), tf.matMul(tf.mul(r, h), whN)));
    const next = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), cand));
    const m = tf.slice(mask, [0, t], [n, 1]);
    h = tf.add(tf.mul(m, next), tf.mul(tf.sub(1, m), h)) as TF.Tensor2D;
    sum = tf.add(sum, tf.mul(m, h)) as TF.Tensor2D;
  }
  return tf.div(sum, tf.sum(mask, 1, true)) as TF.Tensor2D;
}
