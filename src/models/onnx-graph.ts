import onnxProto from 'onnx-proto';

/**
 * Edits of an ONNX graph made in memory at load time; the file on disk is never changed
 * (its sha256 stays the one the registry pins).
 */
const { onnx } = onnxProto;
export type OnnxModel = InstanceType<typeof onnx.ModelProto>;

const ElemType = onnx.TensorProto.DataType;
export const ONNX_UINT8 = ElemType.UINT8;
export const ONNX_FLOAT = ElemType.FLOAT;

type Graph = InstanceType<typeof onnx.GraphProto>;

/** The graph with its repeated fields present (protobuf decodes absent lists as undefined). */
function graphOf(model: OnnxModel): Graph & Required<Pick<Graph, 'node' | 'input' | 'output' | 'initializer'>> {
  const g = model.graph;
  if (!g) throw new Error('ONNX model has no graph');
  g.node ??= [];
  g.input ??= [];
  g.output ??= [];
  g.initializer ??= [];
  return g as Graph & Required<Pick<Graph, 'node' | 'input' | 'output' | 'initializer'>>;
}

export function decodeModel(bytes: Uint8Array): OnnxModel {
  return onnx.ModelProto.decode(bytes);
}

export function encodeModel(model: OnnxModel): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

type Dim = number | string;

function valueInfo(name: string, elemType: number, dims: Dim[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/** Makes an intermediate tensor a graph output, so one run yields it beside the usual outputs. */
/** A scalar constant of the graph (a quantization scale or zero point). */
export function readScalar(model: OnnxModel, name: string): number {
  return scalarInitializer(model, name);
}

/** The node that takes `tensor` as its first input, if any. */
export function firstConsumer(model: OnnxModel, tensor: string): { opType: string; inputs: string[] } | undefined {
  const n = graphOf(model).node.find((x) => x.input?.[0] === tensor);
  return n ? { opType: n.opType ?? '', inputs: [...(n.input ?? [])] } : undefined;
}

export function exposeTensorAsOutput(model: OnnxModel, tensor: string, elemType: number, dims: Dim[]): void {
  const graph = graphOf(model);
  const produced = graph.node.some((n) => n.output?.includes(tensor));
  if (!produced) throw new Error(`ONNX graph has no tensor named ${tensor}`);
  if (graph.output.some((o) => o.name === tensor)) return;
  graph.output.push(valueInfo(tensor, elemType, dims));
}

function scalarInitializer(model: OnnxModel, name: string): number {
  const init = graphOf(model).initializer.find((t) => t.name === name);
  if (!init) throw new Error(`ONNX graph has no initializer ${name}`);
  if (init.floatData?.length) return init.floatData[0]!;
  if (init.int32Data?.length) return init.int32Data[0]!;
  const raw = init.rawData;
  if (raw && raw.length > 0) {
    const view = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    if (init.dataType === ElemType.FLOAT) return view.readFloatLE(0);
    if (init.dataType === ElemType.UINT8) return view.readUInt8(0);
    if (init.dataType === ElemType.INT8) return view.readInt8(0);
  }
  throw new Error(`cannot read scalar initializer ${name}`);
}

export interface InputQuantization {
  /** Name of the new uint8 graph input. */
  input: string;
  scale: number;
  zeroPoint: number;
}

/**
 * An int8 model starts by quantizing its float input (QuantizeLinear). Feeding the quantized
 * tensor directly lets the caller fold normalisation and quantization into one 256-entry
 * lookup per channel: a quarter of the bytes to copy and no float pass over the pixels.
 * The result is bit-identical to feeding the float input.
 */
export function bypassInputQuantizer(model: OnnxModel, dims: Dim[]): InputQuantization {
  const graph = graphOf(model);
  if (graph.input.length === 0) throw new Error('ONNX model has no inputs');
  const inputName = graph.input[0]!.name!;
  const idx = graph.node.findIndex((n) => n.opType === 'QuantizeLinear' && n.input?.[0] === inputName);
  if (idx < 0) throw new Error(`no QuantizeLinear consumes input ${inputName}`);
  const node = graph.node[idx]!;
  const [, scaleName, zeroName] = node.input!;
  const quantized = node.output![0]!;
  const others = graph.node.filter((n, i) => i !== idx && n.input?.includes(inputName));
  if (others.length > 0) throw new Error(`input ${inputName} has consumers besides its quantizer`);
  const q: InputQuantization = {
    input: quantized,
    scale: scalarInitializer(model, scaleName!),
    zeroPoint: scalarInitializer(model, zeroName!),
  };
  graph.node.splice(idx, 1);
  graph.input.splice(0, 1, valueInfo(quantized, ONNX_UINT8, dims));
  return q;
}
