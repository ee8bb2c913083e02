/**
 * The models Visor knows: what files each needs, where they come from upstream, how to check
 * them and under which licence they are used.
 */
export interface ModelFileSpec {
  /** File name inside the model's folder. */
  name: string;
  size: number;
  /** sha256 of the file as kept on disk (after `convert`, when there is one). */
  sha256: string;
  /** Where the file is fetched from when it is missing locally. */
  url: string;
  /**
   * Upstream publishes the content in another layout: the fetched bytes are converted, then
   * the result is checked against `sha256`.
   */
  convert?: (fetched: Buffer) => Buffer;
}

export interface ModelSpec {
  id: string;
  title: string;
  task: string;
  licence: string;
  homepage: string;
  files: ModelFileSpec[];
  /**
   * How the files are laid out and loaded: 'hf-onnx' is a vision–language model in the
   * Hugging Face ONNX layout (ClipModel); absent for the built-in MobileNetV2.
   */
  format?: 'hf-onnx';
  /** For a model added from a local folder: the folder, where its files stay. */
  folder?: string;
}

/**
 * Keras publishes the ImageNet class index as {"0": [wnid, label], …}; we keep it as an array
 * in class order, formatted exactly like the copy in ../shared so the same sha256 holds.
 */
export function kerasClassIndexToArray(fetched: Buffer): Buffer {
  const dict = JSON.parse(fetched.toString('utf8')) as Record<string, [string, string]>;
  const keys = Object.keys(dict).sort((a, b) => Number(a) - Number(b));
  const body = keys.map((k) => `[${JSON.stringify(dict[k]![0])}, ${JSON.stringify(dict[k]![1])}]`).join(', ');
  return Buffer.from(`[${body}]`, 'utf8');
}

export const MOBILENET_V2_INT8: ModelSpec = {
  id: 'mobilenetv2-12-int8',
  title: 'MobileNetV2 1.0 (ImageNet), ONNX int8',
  task: 'image features (1280-d pooled) and ImageNet-1k class probabilities',
  licence: 'Apache-2.0 (ONNX Model Zoo); ImageNet class index from Keras (Apache-2.0)',
  homepage: 'https://github.com/onnx/models/tree/main/validated/vision/classification/mobilenet',
  files: [
    {
      name: 'mobilenetv2-12-int8.onnx',
      size: 3_655_033,
      sha256: 'cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f',
      url: 'https://github.com/onnx/models/raw/main/validated/vision/classification/mobilenet/model/mobilenetv2-12-int8.onnx',
    },
    {
      name: 'imagenet_labels.json',
      size: 28_473,
      sha256: '4aeeb789f396db10ebfc34c5a2442e3ad969a1d594fbd84c608d9c866fcd6243',
      url: 'https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json',
      convert: kerasClassIndexToArray,
    },
  ],
};

const MODELS: ModelSpec[] = [MOBILENET_V2_INT8];

export function listModels(): readonly ModelSpec[] {
  return MODELS;
}

export function findModel(id: string): ModelSpec | undefined {
  return MODELS.find((m) => m.id === id);
}
