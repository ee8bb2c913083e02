/**
 * Tiny stand-ins for CLIP's ONNX towers, built here with onnx-proto: the real input and
 * output names, types and shapes (vision: pixel_values float [N,3,224,224] → image_embeds
 * [N,512]; text: input_ids int64 [N,77] → text_embeds [N,512], as transformers.js' CLIP
 * exports have them), computing simple functions whose results the tests work out
 * independently:
 *   vision: image_embeds = mean over pixels of each channel (3 values) · V[3×512] + c
 *   text:   text_embeds  = (input_ids / 49408) · T[77×512] + P[position of the first end token]
 *           (+ attention_mask · M[77×512] in the variant that takes a mask)
 * The end-token lookup is CLIP's own pooling (argmax over the ids), so a wrong padding or
 * truncation shows in the output.
 */
import fs from 'node:fs';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { CLIP_TOKENIZER_DIR } from './fixtures.js';

const { onnx } = onnxProto;
const F = onnx.TensorProto.DataType.FLOAT;
const I64 = onnx.TensorProto.DataType.INT64;

export const DIM = 512;
export const CONTEXT = 77;
export const VOCAB = 49408;

const madeWeights = new Map<string, Float32Array>();

/** Deterministic weights in [-1, 1], different for each name (made once; never modify them). */
export function weights(name: string, n: number): Float32Array {
  const key = `${name}:${n}`;
  let w = madeWeights.get(key);
  if (!w) {
    let seed = 0;
    for (const ch of name) seed = (seed * 31 + ch.charCodeAt(0)) % 1000;
    w = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.731 + seed * 0.917 + 0.3));
    madeWeights.set(key, w);
  }
  return w;
}

const vi = (name: string, type: number, dims: Array<number | string>) =>
  onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: type, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });

const floats = (name: string, dims: number[], data: Float32Array) =>
  onnx.TensorProto.create({ name, dataType: F, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });

const int = (name: string, i: number) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i });
const ints = (name: string, v: number[]) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
const node = (opType: string, input: string[], output: string[], attribute: InstanceType<typeof onnx.AttributeProto>[] = []) =>
  onnx.NodeProto.create({ opType, input, output, attribute });

function model(graph: InstanceType<typeof onnx.GraphProto>): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph })).finish();
}

/**
 * The vision tower. With `dynamicQuant`, the pooled values pass through
 * DynamicQuantizeLinear/DequantizeLinear first, as in dynamically quantized exports: the
 * quantization scale then comes from the whole batch.
 */
export function tinyVisionModel(opts: { dynamicQuant?: boolean } = {}): Uint8Array {
  const pooledName = opts.dynamicQuant ? 'pooled_raw' : 'pooled';
  const quant = opts.dynamicQuant
    ? [node('DynamicQuantizeLinear', ['pooled_raw'], ['q', 'q_scale', 'q_zero']), node('DequantizeLinear', ['q', 'q_scale', 'q_zero'], ['pooled'])]
    : [];
  return model(
    onnx.GraphProto.create({
      name: 'tiny_clip_vision',
      input: [vi('pixel_values', F, ['batch_size', 3, 224, 224])],
      output: [vi('image_embeds', F, ['batch_size', DIM]), vi('last_hidden_state', F, ['batch_size', 3])],
      initializer: [floats('V', [3, DIM], weights('V', 3 * DIM)), floats('c', [DIM], weights('c', DIM))],
      node: [
        node('ReduceMean', ['pixel_values'], [pooledName], [ints('axes', [2, 3]), int('keepdims', 0)]),
        ...quant,
        node('MatMul', ['pooled', 'V'], ['projected']),
        node('Add', ['projected', 'c'], ['image_embeds']),
        node('Identity', ['pooled'], ['last_hidden_state']),
      ],
    }),
  );
}

export function tinyTextModel(opts: { attentionMask?: boolean } = {}): Uint8Array {
  const maskNodes = opts.attentionMask
    ? [
        node('Cast', ['attention_mask'], ['mask_f'], [int('to', F)]),
        node('MatMul', ['mask_f', 'M'], ['mask_part']),
        node('Add', ['sum1', 'mask_part'], ['text_embeds']),
      ]
    : [];
  return model(
    onnx.GraphProto.create({
      name: 'tiny_clip_text',
      input: [
        vi('input_ids', I64, ['batch_size', 'sequence_length']),
        ...(opts.attentionMask ? [vi('attention_mask', I64, ['batch_size', 'sequence_length'])] : []),
      ],
      output: [vi('text_embeds', F, ['batch_size', DIM]), vi('last_hidden_state', F, ['batch_size', 'sequence_length'])],
      initializer: [
        floats('T', [CONTEXT, DIM], weights('T', CONTEXT * DIM)),
        floats('P', [CONTEXT, DIM], weights('P', CONTEXT * DIM)),
        floats('inv_vocab', [], Float32Array.of(1 / VOCAB)),
        ...(opts.attentionMask ? [floats('M', [CONTEXT, DIM], weights('M', CONTEXT * DIM))] : []),
      ],
      node: [
        node('Cast', ['input_ids'], ['ids_f'], [int('to', F)]),
        node('Mul', ['ids_f', 'inv_vocab'], ['scaled']),
        node('MatMul', ['scaled', 'T'], ['id_part']),
        node('ArgMax', ['input_ids'], ['eos_position'], [int('axis', 1), int('keepdims', 0)]),
        node('Gather', ['P', 'eos_position'], ['position_part'], [int('axis', 0)]),
        node('Add', ['id_part', 'position_part'], opts.attentionMask ? ['sum1'] : ['text_embeds']),
        ...maskNodes,
        node('Identity', ['scaled'], ['last_hidden_state']),
      ],
    }),
  );
}

export interface TinyClipOptions {
  dynamicQuant?: boolean;
  attentionMask?: boolean;
  /** Leave the text tower out (an image-only model). */
  noText?: boolean;
}

/**
 * A model folder in the Hugging Face ONNX layout: CLIP ViT-B/32's real configs and tokenizer
 * (from ../shared) with the tiny towers.
 */
export function writeTinyClipFolder(dir: string, opts: TinyClipOptions = {}): string {
  fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  for (const f of ['preprocessor_config.json', 'config.json', 'tokenizer.json']) fs.copyFileSync(path.join(CLIP_TOKENIZER_DIR, f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, 'onnx', 'vision_model_quantized.onnx'), tinyVisionModel(opts));
  if (!opts.noText) fs.writeFileSync(path.join(dir, 'onnx', 'text_model_quantized.onnx'), tinyTextModel(opts));
  return dir;
}

function normalized(v: Float64Array): Float64Array {
  const n = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  return v.map((x) => x / n);
}

/** What the tiny vision tower gives for one image's CHW input, worked out in float64. */
export function expectedImageEmbedding(chw: Float32Array): Float64Array {
  const plane = chw.length / 3;
  const means = [0, 1, 2].map((c) => {
    let s = 0;
    for (let i = 0; i < plane; i++) s += chw[c * plane + i]!;
    return s / plane;
  });
  const V = weights('V', 3 * DIM);
  const c = weights('c', DIM);
  return normalized(Float64Array.from({ length: DIM }, (_, j) => means[0]! * V[j]! + means[1]! * V[DIM + j]! + means[2]! * V[2 * DIM + j]! + c[j]!));
}

/** What the tiny text tower gives for one padded row of ids (and its mask), in float64. */
export function expectedTextEmbedding(ids: readonly number[], mask?: readonly number[]): Float64Array {
  const T = weights('T', CONTEXT * DIM);
  const P = weights('P', CONTEXT * DIM);
  const M = weights('M', CONTEXT * DIM);
  const eos = ids.indexOf(Math.max(...ids));
  const out = new Float64Array(DIM);
  for (let j = 0; j < DIM; j++) {
    let s = P[eos * DIM + j]!;
    for (let t = 0; t < ids.length; t++) {
      s += (ids[t]! / VOCAB) * T[t * DIM + j]!;
      if (mask) s += mask[t]! * M[t * DIM + j]!;
    }
    out[j] = s;
  }
  return normalized(out);
}
