import { canonicalModelConfig, canonicalPreprocessorConfig } from './clip/hf-config.js';
import { canonicalTokenizerJson } from '../text/tokenizer-json.js';

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
   * Hugging Face ONNX layout (ClipModel); absent for the built-in single-file models (MobileNetV2, YOLOX).
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

const XENOVA_CLIP_B32 = 'https://huggingface.co/Xenova/clip-vit-base-patch32/resolve/d15189d7028b43f1d3e65039190477f6af591c2a';

/**
 * OpenAI CLIP ViT-B/32 as transformers.js publishes it: int8 towers (dynamically quantized),
 * tokenizer and configs. The JSON files are kept in a canonical form (see
 * canonicalTokenizerJson), so their sha256 pins what they say rather than how they are
 * formatted; the ONNX towers are pinned byte for byte.
 */
export const CLIP_VIT_B32: ModelSpec = {
  id: 'clip-vit-b32',
  title: 'OpenAI CLIP ViT-B/32, ONNX int8 (transformers.js export)',
  task: 'image and text embeddings in one 512-d space (text-to-image search)',
  licence: 'MIT (OpenAI CLIP weights); ONNX conversion by Xenova (transformers.js)',
  homepage: 'https://huggingface.co/Xenova/clip-vit-base-patch32',
  format: 'hf-onnx',
  files: [
    {
      name: 'preprocessor_config.json',
      size: 392,
      sha256: '04de637fd9d967e8b93f0be50c87a4654167df4094fa33fd9f4a663fd57950f3',
      url: `${XENOVA_CLIP_B32}/preprocessor_config.json`,
      convert: canonicalPreprocessorConfig,
    },
    {
      name: 'config.json',
      size: 158,
      sha256: '7844225013b6a9d8d1b9cfa7d6dc15bb943a73015ba5cd96aa005ce55b236a4d',
      url: `${XENOVA_CLIP_B32}/config.json`,
      convert: canonicalModelConfig,
    },
    {
      name: 'tokenizer.json',
      size: 1_680_581,
      sha256: '9ba1f8b5392b4e523b393e99ea5c67d867d42c51afa41a0019c5f54217d9c774',
      url: `${XENOVA_CLIP_B32}/tokenizer.json`,
      convert: canonicalTokenizerJson,
    },
    {
      name: 'onnx/vision_model_quantized.onnx',
      size: 89_117_001,
      sha256: '583fd1110a514667812fee7d684952aaf82a99b959760c8d7dca7e0ab9839299',
      url: `${XENOVA_CLIP_B32}/onnx/vision_model_quantized.onnx`,
    },
    {
      name: 'onnx/text_model_quantized.onnx',
      size: 64_504_507,
      sha256: '73baab855d406190da9faa498cfedf65f15cf309f4cc7385b7b032e6d08e5c3a',
      url: `${XENOVA_CLIP_B32}/onnx/text_model_quantized.onnx`,
    },
  ],
};

/**
 * YOLOX publishes its class names as a Python tuple (yolox/data/datasets/coco_classes.py); we keep
 * them as a JSON array in output order, formatted exactly like the copy in ../shared.
 */
export function pythonClassTupleToJson(fetched: Buffer): Buffer {
  const names = [...fetched.toString('utf8').matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
  return Buffer.from(`${JSON.stringify(names)}\n`, 'utf8');
}

/**
 * YOLOX-Nano (Megvii, COCO 80 classes) as exported to ONNX by a third party with YOLOX's own
 * tools/export_onnx.py (Megvii publishes no Nano ONNX file); pinned byte for byte.
 */
export const YOLOX_NANO_COCO: ModelSpec = {
  id: 'yolox-nano-coco',
  title: 'YOLOX-Nano (COCO 80 classes), ONNX fp32, 416×416',
  task: 'objects and people in photos: boxes and COCO class names',
  licence: 'Apache-2.0 (YOLOX, Megvii); ONNX export by a third party (Bigisland1729/object-detection-models, no licence file of its own)',
  homepage: 'https://github.com/Megvii-BaseDetection/YOLOX',
  files: [
    {
      name: 'yolox_nano.onnx',
      size: 3_678_356,
      sha256: 'e8af074932d4ed7e232278e3055cefcdea3edf178874a3694ae292649fb464dd',
      url: 'https://github.com/Bigisland1729/object-detection-models/raw/7f3f2fa34b351e3d2af150893458106ad3f3a84f/yolox_nano.onnx',
    },
    {
      name: 'coco_labels.json',
      size: 783,
      sha256: '650792d0d284bc1a8f543759a17092315f47168692fddb7d2f933930db6887f7',
      url: 'https://raw.githubusercontent.com/Megvii-BaseDetection/YOLOX/f7f7c7135f7acf8703f8fb073f1f15b8d9466ea2/yolox/data/datasets/coco_classes.py',
      convert: pythonClassTupleToJson,
    },
  ],
};

export const YUNET_FACE: ModelSpec = {
  id: 'yunet-face-2026may',
  title: 'YuNet face detector (OpenCV Zoo 2026may), ONNX fp32, any input size',
  task: 'faces in photos: boxes, scores and five landmarks (eyes, nose, mouth corners)',
  licence: 'MIT (OpenCV Zoo; model by Shiqi Yu et al., libfacedetection.train)',
  homepage: 'https://github.com/opencv/opencv_zoo/tree/main/models/face_detection_yunet',
  files: [
    {
      name: 'face_detection_yunet_2026may.onnx',
      size: 229_738,
      sha256: 'ebafce4e3c118d6554634be5c27ab333b4c047a9a8c3faf1d7cf93101c22f0f0',
      url: 'https://github.com/RuDr8A/RealTime-PPE-Compliance/raw/d876a822bbb20180b9ed7850c1d3229d72883067/face_detection_yunet_2026may.onnx',
    },
  ],
};

/**
 * Face embeddings. The code and weights are Apache-2.0 (PaddleX), but the weights were trained
 * on MS1Mv3 (derived from MS-Celeb-1M), a data set published for research only.
 */
export const MOBILEFACENET: ModelSpec = {
  id: 'mobilefacenet-paddlex',
  title: 'MobileFaceNet face embeddings (PaddleX, trained on MS1Mv3), ONNX fp32, 112×112 → 128-d',
  task: 'who a face is: a 128-d embedding of an aligned face, compared by cosine',
  licence: 'Apache-2.0 (PaddleX code and weights); trained on MS1Mv3, a research-only data set',
  homepage: 'https://github.com/PaddlePaddle/PaddleX',
  files: [
    {
      name: 'MobileFaceNet.onnx',
      size: 4_001_322,
      sha256: '6ced4e0c36abba9dd24b48d725f7dbb94089f75b3d3445d3d67b85157cb64743',
      url: 'https://github.com/KennethWang1221/Face-Detection-and-Recognition-System/raw/5638c7a40ba4f35d614e623f8cf094296c5c6106/MobileFaceNet.onnx',
    },
  ],
};

const MODELS: ModelSpec[] = [MOBILENET_V2_INT8, CLIP_VIT_B32, YOLOX_NANO_COCO, YUNET_FACE, MOBILEFACENET];

export function listModels(): readonly ModelSpec[] {
  return MODELS;
}

export function findModel(id: string): ModelSpec | undefined {
  return MODELS.find((m) => m.id === id);
}
