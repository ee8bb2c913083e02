import type { JointArchitecture } from '../../../src/models/joint-net.js';
import { parameterShapes } from '../../../src/models/joint-net.js';
import { rng } from '../../random.js';

/**
 * Seeded initial weights, made in JavaScript so a seed gives the same model on every backend:
 * Glorot-uniform matrices, small uniform token vectors, zero biases, CLIP's initial temperature.
 */
export function initialWeights(a: JointArchitecture, seed: number): Map<string, { shape: number[]; data: Float32Array }> {
  const rand = rng(seed);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, shape] of Object.entries(parameterShapes(a))) {
    const n = shape.reduce((x, d) => x * d, 1);
    const data = new Float32Array(n);
    if (name === 'logitScale') data[0] = Math.log(1 / 0.07);
    else if (name === 'image.norm.invStd') data.fill(1);
    else if (name === 'text.embed') for (let i = 0; i < n; i++) data[i] = (rand() * 2 - 1) * 0.1;
    else if (shape.length === 2) {
      const limit = Math.sqrt(6 / (shape[0]! + shape[1]!));
      for (let i = 0; i < n; i++) data[i] = (rand() * 2 - 1) * limit;
    }
    out.set(name, { shape, data });
  }
  return out;
}
