import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeForModel } from '../src/image/decode.js';
import { MobileNetV2 } from '../src/models/mobilenet.js';
import onnxProto from 'onnx-proto';
import { decodeModel, encodeModel, exposeTensorAsOutput, ONNX_UINT8, type OnnxModel } from '../src/models/onnx-graph.js';
import { FLICKR_TEST_IMAGES, MODELS_DIR } from './fixtures.js';

const img = (name: string) => path.join(FLICKR_TEST_IMAGES, name);
// Chosen from their captions: two dog photos, a tandem-bicycle photo.
const DOG_A = img('909808296_23c427022d.jpg');
const DOG_B = img('757332692_6866ae545c.jpg');
const BIKE = img('3635577874_48ebaac734.jpg');
const DOG_CLASSES = { first: 151, last: 268 }; // ImageNet's 118 dog breeds (n02085620 … n02113978)

async function pixels(file: string): Promise<Buffer> {
  return (await decodeForModel(fs.readFileSync(file), 224, { maxPixels: 1e8 })).pixels;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

const { TensorProto } = onnxProto.onnx;

/**
 * Rewrites the int8 weights (and their zero points) of QLinearConv and QLinearMatMul as uint8,
 * each value + 128: the same products, but through onnxruntime's uint8 × uint8 kernel, which
 * never saturates, so the reference is exact whatever the CPU. Returns how many were rewritten.
 */
function weightsAsUint8(graph: OnnxModel): number {
  const init = new Map((graph.graph?.initializer ?? []).map((t) => [t.name!, t]));
  const done = new Set<string>();
  for (const node of graph.graph?.node ?? []) {
    if (node.opType !== 'QLinearConv' && node.opType !== 'QLinearMatMul') continue;
    for (const i of [3, 5]) {
      const t = init.get(node.input![i]!);
      if (!t || t.dataType !== TensorProto.DataType.INT8 || done.has(t.name!)) continue;
      const raw = t.rawData?.length ? new Int8Array(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength) : Int8Array.from(t.int32Data ?? []);
      t.rawData = Uint8Array.from(raw, (v) => v + 128);
      t.int32Data = [];
      t.dataType = TensorProto.DataType.UINT8;
      done.add(t.name!);
    }
  }
  return done.size;
}

describe('MobileNetV2 image encoder', () => {
  let model: MobileNetV2;
  beforeAll(async () => {
    model = await MobileNetV2.load({ threads: 2 });
  });
  afterAll(async () => model.close());

  it('gives unit-norm 1280-d features and a probability distribution over 1000 classes', async () => {
    const out = await model.embed([await pixels(DOG_A), await pixels(BIKE)]);
    expect(out.count).toBe(2);
    expect(out.features.length).toBe(2 * 1280);
    expect(out.probs.length).toBe(2 * 1000);
    for (let i = 0; i < 2; i++) {
      const f = out.features.subarray(i * 1280, (i + 1) * 1280);
      expect(Math.sqrt(dot(f, f))).toBeCloseTo(1, 5);
      const p = out.probs.subarray(i * 1000, (i + 1) * 1000);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      expect(Math.min(...p)).toBeGreaterThanOrEqual(0);
    }
    expect(model.classes[207]).toEqual({ index: 207, wnid: 'n02099601', label: 'golden retriever' });
  });

  it('recognises what is in real photos', async () => {
    const out = await model.embed([await pixels(DOG_A), await pixels(DOG_B), await pixels(BIKE)]);
    const top = (i: number, n: number) =>
      Array.from(out.probs.subarray(i * 1000, (i + 1) * 1000))
        .map((p, c) => [p, c] as const)
        .sort((a, b) => b[0] - a[0])
        .slice(0, n)
        .map(([, c]) => c);
    for (const i of [0, 1]) {
      const best = top(i, 1)[0]!;
      expect(best).toBeGreaterThanOrEqual(DOG_CLASSES.first);
      expect(best).toBeLessThanOrEqual(DOG_CLASSES.last);
    }
    const bikeTop = top(2, 3).map((c) => model.classes[c]!.label);
    expect(bikeTop.some((l) => /bicycle|bike/.test(l))).toBe(true);
    // Two dogs are closer to each other than either is to a bicycle.
    const f = (i: number) => out.features.subarray(i * 1280, (i + 1) * 1280);
    expect(dot(f(0), f(1))).toBeGreaterThan(dot(f(0), f(2)));
    expect(dot(f(0), f(1))).toBeGreaterThan(dot(f(1), f(2)));
  });

  it('feeding quantized pixels is bit-identical to the unmodified float graph', async () => {
    // Reference: the file as published, with only the pooled features exposed, fed the
    // float input computed the textbook way; its int8 weights written as the same numbers in
    // uint8, which onnxruntime multiplies exactly on every CPU (src/models/int8-precision.ts).
    const graph = decodeModel(fs.readFileSync(path.join(MODELS_DIR, 'mobilenetv2-12-int8', 'mobilenetv2-12-int8.onnx')));
    exposeTensorAsOutput(graph, '472_quantized', ONNX_UINT8, ['N', 1280]);
    expect(weightsAsUint8(graph)).toBeGreaterThan(100);
    const reference = await ort.InferenceSession.create(encodeModel(graph), { intraOpNumThreads: 2 });
    const images = [await pixels(DOG_A), await pixels(BIKE), await pixels(DOG_B)];
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const input = new Float32Array(images.length * 3 * 224 * 224);
    images.forEach((rgb, n) => {
      for (let p = 0; p < 224 * 224; p++) {
        for (let c = 0; c < 3; c++) input[n * 3 * 50176 + c * 50176 + p] = (rgb[p * 3 + c]! / 255 - mean[c]!) / std[c]!;
      }
    });
    const ref = await reference.run({ input: new ort.Tensor('float32', input, [images.length, 3, 224, 224]) });
    await reference.release();
    const ours = await model.embed(images);
    const raw = ref['472_quantized']!.data as Uint8Array;
    for (let n = 0; n < images.length; n++) {
      const r = Float32Array.from(raw.subarray(n * 1280, (n + 1) * 1280));
      const norm = Math.sqrt(dot(r, r));
      const o = ours.features.subarray(n * 1280, (n + 1) * 1280);
      let maxDiff = 0;
      for (let j = 0; j < 1280; j++) maxDiff = Math.max(maxDiff, Math.abs(r[j]! / norm - o[j]!));
      expect(maxDiff).toBeLessThan(1e-6);
    }
    const logits = ref.output!.data as Float32Array;
    const argmax = (a: ArrayLike<number>) => Array.from(a).indexOf(Math.max(...Array.from(a)));
    for (let n = 0; n < images.length; n++) {
      expect(argmax(ours.probs.subarray(n * 1000, (n + 1) * 1000))).toBe(argmax(logits.subarray(n * 1000, (n + 1) * 1000)));
    }
  });

  it('packs the same bytes whether or not the pixels are 32-bit aligned (word-at-a-time path vs byte loop)', async () => {
    const rgb = await pixels(DOG_A);
    const aligned = model.newBatch(2);
    model.pack(aligned, 1, new Uint8Array(rgb.buffer.slice(rgb.byteOffset, rgb.byteOffset + rgb.length)));
    const shifted = new Uint8Array(rgb.length + 1);
    shifted.set(rgb, 1);
    const bytewise = model.newBatch(2);
    model.pack(bytewise, 1, shifted.subarray(1)); // offset 1: the plain loop
    expect(Buffer.from(aligned).equals(Buffer.from(bytewise))).toBe(true);
    expect(aligned.subarray(3 * 224 * 224).some((v) => v !== 0)).toBe(true);
  });

  it('rejects pixels of the wrong size', () => {
    expect(() => model.pack(model.newBatch(1), 0, new Uint8Array(10))).toThrow(/expected 150528 bytes/);
  });
});
