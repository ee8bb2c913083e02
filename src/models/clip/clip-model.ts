import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_MAX_PIXELS, type DecodeLimits, type ModelInput } from '../../image/decode.js';
import { VisorError, errorMessage } from '../../errors.js';
import { ClipTokenizer } from '../../text/clip-tokenizer.js';
import type { ModelSpec } from '../registry.js';
import { resolveModel, type ResolveOptions } from '../resolve.js';
import type { ImageEmbeddings, ImageEncoder } from '../types.js';
import { readModelConfig, readPreprocessorConfig, type ModelSettings } from './hf-config.js';
import { filesFromResolved, scanHfOnnxFolder, type HfOnnxFiles } from './layout.js';
import { ImagePreprocessor } from './preprocess.js';
import { TextTower, VisionTower, type TowerOptions } from './towers.js';

export type Tower = 'image' | 'text';

export interface ClipLoadOptions extends ResolveOptions, TowerOptions {
  /** Towers to load (default: every tower the model has). Workers that only index need 'image'. */
  towers?: Tower[];
  /** For a folder: its id (default: the folder's name). */
  id?: string;
  /** For a folder holding several precisions: quantized, fp32, int8, uint8 (default: the first found in that order). */
  variant?: string;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new VisorError('MODEL_NOT_FOUND', `cannot read ${file}: ${errorMessage(e)}`, { cause: e });
  }
}

/** Config errors become VisorErrors naming the file, so the CLI reports them as such. */
function fromFile<T>(file: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof VisorError) throw e;
    throw new VisorError('MODEL_NOT_FOUND', `${file}: ${errorMessage(e)}`, { cause: e });
  }
}

/**
 * A CLIP-family vision–language model (CLIP, SigLIP and other dual encoders exported to ONNX
 * in the Hugging Face layout): images and texts become vectors in one space, so a text finds
 * the images it describes. Every setting comes from the model's own configs.
 */
export class ClipModel {
  private constructor(
    readonly id: string,
    readonly settings: ModelSettings,
    readonly preprocessor: ImagePreprocessor,
    private readonly vision: VisionTower | null,
    private readonly text: TextTower | null,
    /** Why there is no text tower, for the error when one is asked for. */
    private readonly noTextReason: string,
  ) {}

  /**
   * Loads a registry or added model (`spec`: files resolved, downloaded if allowed) or a
   * folder in the Hugging Face ONNX layout.
   */
  static async load(source: ModelSpec | string, opts: ClipLoadOptions = {}): Promise<ClipModel> {
    let id: string;
    let files: HfOnnxFiles;
    if (typeof source === 'string') {
      const folder = path.resolve(source);
      id = opts.id ?? path.basename(folder);
      files = filesFromResolved(Object.fromEntries(scanHfOnnxFolder(folder, opts.variant).map((f) => [f, path.join(folder, f)])));
    } else {
      if (source.format !== 'hf-onnx') throw new VisorError('MODEL_UNKNOWN', `${source.id} is not a vision–language model`);
      id = source.id;
      files = filesFromResolved(await resolveModel(source, opts));
    }
    const settings = fromFile(files.config, () => readModelConfig(readJson(files.config)));
    const pre = new ImagePreprocessor(fromFile(files.preprocessorConfig, () => readPreprocessorConfig(readJson(files.preprocessorConfig))));
    if (pre.width !== pre.height || pre.width !== settings.imageSize) {
      throw new VisorError(
        'MODEL_NOT_FOUND',
        `${id}: preprocessing gives ${pre.width}×${pre.height} images but the vision tower takes ${settings.imageSize}×${settings.imageSize}`,
      );
    }
    const wanted = new Set<Tower>(opts.towers ?? ['image', 'text']);
    const explicit = opts.towers !== undefined;

    let vision: VisionTower | null = null;
    if (wanted.has('image')) {
      if (!files.vision) throw new VisorError('MODEL_NOT_FOUND', `${id} has no vision tower`);
      vision = await VisionTower.open(files.vision, pre, settings.dimension, opts);
    }
    let text: TextTower | null = null;
    let noTextReason = 'it was loaded without its text tower';
    if (wanted.has('text')) {
      try {
        if (!files.text) throw new Error('it has no text tower (onnx/text_model*.onnx)');
        if (!files.tokenizer) throw new Error('it has no tokenizer.json');
        const tokenizer = fromFile(files.tokenizer, () => ClipTokenizer.load(files.tokenizer!));
        text = await TextTower.open(files.text, tokenizer, settings.contextLength, settings.dimension, opts);
      } catch (e) {
        if (explicit) {
          await vision?.close();
          throw e instanceof VisorError ? e : new VisorError('MODEL_NOT_FOUND', `${id}: ${errorMessage(e)}`, { cause: e });
        }
        noTextReason = errorMessage(e);
      }
    }
    return new ClipModel(id, settings, pre, vision, text, noTextReason);
  }

  /** Size of the embedding space. */
  get dimension(): number {
    return this.settings.dimension;
  }

  /** Tokens per text; longer texts are cut (keeping the end token). */
  get contextLength(): number {
    return this.settings.contextLength;
  }

  get hasText(): boolean {
    return this.text !== null;
  }

  /** Why texts cannot be embedded, or null when they can. */
  get textUnavailableReason(): string | null {
    return this.text ? null : this.noTextReason;
  }

  private visionTower(): VisionTower {
    if (!this.vision) throw new VisorError('QUERY_INVALID', `${this.id} was loaded without its vision tower`);
    return this.vision;
  }

  /** Embeds image files (their bytes): count × dimension, rows L2-normalised. */
  async encodeImages(images: readonly Buffer[], limits: DecodeLimits = { maxPixels: DEFAULT_MAX_PIXELS }): Promise<Float32Array> {
    const tower = this.visionTower();
    const size = 3 * this.preprocessor.width * this.preprocessor.height;
    const pixels = new Float32Array(images.length * size);
    await Promise.all(
      images.map(async (bytes, i) => {
        let input: ModelInput;
        try {
          input = await this.preprocessor.decode(bytes, limits);
        } catch (e) {
          throw new VisorError('IMAGE_INVALID', images.length > 1 ? `image ${i}: ${errorMessage(e)}` : errorMessage(e), { cause: e });
        }
        this.preprocessor.toTensor(input.pixels, pixels, i * size);
      }),
    );
    return tower.run(pixels, images.length);
  }

  /** Embeds texts: count × dimension, rows L2-normalised. */
  async encodeText(texts: readonly string[]): Promise<Float32Array> {
    if (!this.text) throw new VisorError('QUERY_INVALID', `${this.id} cannot embed text: ${this.noTextReason}`);
    return this.text.run(texts);
  }

  /** The image side as an ImageEncoder, for the embedding workers and image queries. */
  imageEncoder(): ImageEncoder {
    return new ClipImageEncoder(this, this.visionTower());
  }

  async close(): Promise<void> {
    await Promise.all([this.vision?.close(), this.text?.close()]);
  }
}

/**
 * The vision tower behind the ImageEncoder interface: `decode` does the model's own resize
 * and crop, a batch slot holds the resulting RGB bytes, and `run` normalises them into the
 * tower's float input. There is no classifier, so `probs` is empty.
 */
class ClipImageEncoder implements ImageEncoder {
  readonly id: string;
  readonly inputSize: number;
  readonly featureDim: number;
  readonly numClasses = 0;
  private readonly slotBytes: number;

  constructor(
    private readonly model: ClipModel,
    private readonly tower: VisionTower,
  ) {
    this.id = model.id;
    this.inputSize = model.preprocessor.width;
    this.featureDim = model.dimension;
    this.slotBytes = 3 * model.preprocessor.width * model.preprocessor.height;
  }

  decode(bytes: Buffer, limits: DecodeLimits): Promise<ModelInput> {
    return this.model.preprocessor.decode(bytes, limits);
  }

  newBatch(n: number): Uint8Array {
    return new Uint8Array(n * this.slotBytes);
  }

  pack(batch: Uint8Array, slot: number, rgb: Uint8Array): void {
    if (rgb.length !== this.slotBytes) throw new Error(`expected ${this.slotBytes} bytes of RGB, got ${rgb.length}`);
    batch.set(rgb, slot * this.slotBytes);
  }

  async run(batch: Uint8Array, count: number): Promise<ImageEmbeddings> {
    const pixels = new Float32Array(count * this.slotBytes);
    for (let i = 0; i < count; i++) {
      this.model.preprocessor.toTensor(batch.subarray(i * this.slotBytes, (i + 1) * this.slotBytes), pixels, i * this.slotBytes);
    }
    const features = await this.tower.run(pixels, count);
    return { count, features, probs: new Float32Array(0) };
  }

  close(): Promise<void> {
    return this.model.close();
  }
}
