import type { FaceFact, ImageFacts } from '../core/facts.js';
import { alignFace, FaceEmbedder, sharpness, type FaceEmbedderOptions } from '../models/face-embedder.js';
import { Yunet, type FaceDetectOptions, type FiveLandmarks } from '../models/yunet.js';
import type { FactReader, RgbImage } from '../facts/reader.js';
import { isLowQuality } from './quality.js';

/** A face with its embedding as a typed array (what grouping and search compare). */
export interface ReadFace extends Omit<FaceFact, 'embedding'> {
  embedding: Float32Array;
}

const round1 = (v: number) => Math.round(v * 10) / 10;

/**
 * The faces stage: YuNet finds the faces and their five landmarks; each face is aligned to
 * the ArcFace template, given a quality figure (size, sharpness) and embedded by MobileFaceNet.
 */
export class FaceReader implements FactReader {
  readonly stage = 'faces';
  readonly id: string;

  private constructor(
    private readonly detector: Yunet,
    private readonly embedder: FaceEmbedder,
  ) {
    this.id = `${detector.id}+${embedder.id}`;
  }

  static async load(opts: FaceEmbedderOptions = {}): Promise<FaceReader> {
    const detector = await Yunet.load(opts);
    try {
      return new FaceReader(detector, await FaceEmbedder.load(opts));
    } catch (e) {
      await detector.close();
      throw e;
    }
  }

  /** Faces of an image with their embeddings, best detection first. */
  async faces(image: RgbImage, opts: FaceDetectOptions = {}): Promise<ReadFace[]> {
    const found = await this.detector.detect(image, opts);
    if (found.length === 0) return [];
    const crops = found.map((f) => alignFace(image, f.landmarks));
    const embeddings = await this.embedder.embed(crops);
    return found.map((f, i) => {
      const size = round1(Math.min(f.box[2] - f.box[0], f.box[3] - f.box[1]));
      const sharp = round1(sharpness(crops[i]!));
      return {
        box: f.box.map(round1) as FaceFact['box'],
        score: Math.round(f.score * 1e4) / 1e4,
        landmarks: (f.landmarks as FiveLandmarks).map(round1),
        size,
        sharpness: sharp,
        low: isLowQuality({ size, sharpness: sharp, score: f.score }),
        embedding: embeddings[i]!,
      };
    });
  }

  async read(image: RgbImage): Promise<Partial<ImageFacts>> {
    // Plain numbers so the facts cross to the indexing thread as they are; the faces table stores them as a vector.
    return { faces: (await this.faces(image)).map((f) => ({ ...f, embedding: Array.from(f.embedding) })) };
  }

  async close(): Promise<void> {
    await Promise.all([this.detector.close(), this.embedder.close()]);
  }
}
