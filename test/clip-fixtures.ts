/**
 * Shared inputs for the CLIP suites: the reference implementation (transformers.js, a dev
 * dependency) set up from CLIP ViT-B/32's files in ../shared, Flickr8k captions, and test
 * images of many sizes, shapes and formats made from Flickr8k photos.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { CLIPImageProcessor, CLIPTokenizer, RawImage } from '@huggingface/transformers';
import { CIFAR_DIR, CLIP_TOKENIZER_DIR, FLICKR_TEST_IMAGES, flickrTestImages } from './fixtures.js';

const readJson = (f: string): unknown => JSON.parse(fs.readFileSync(path.join(CLIP_TOKENIZER_DIR, f), 'utf8'));

export function referenceTokenizer(): CLIPTokenizer {
  return new CLIPTokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'));
}

/** transformers.js' CLIP image processor, given the same preprocessor_config.json. */
export function referenceProcessor(): CLIPImageProcessor {
  return new CLIPImageProcessor(readJson('preprocessor_config.json') as ConstructorParameters<typeof CLIPImageProcessor>[0]);
}

/** The reference pixel_values (3 × 224 × 224, CHW) for an image file's bytes. */
export async function referencePixels(processor: CLIPImageProcessor, bytes: Buffer): Promise<Float32Array> {
  const image = await RawImage.fromBlob(new Blob([new Uint8Array(bytes)]));
  const out = await processor(image);
  return out.pixel_values.data as Float32Array;
}

/** The 5,000 captions of the Flickr8k 1k test split, in file order. */
export function flickrCaptions(): string[] {
  const file = path.join(path.dirname(FLICKR_TEST_IMAGES), 'captions_test1k.jsonl');
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => (JSON.parse(line) as { captions: string[] }).captions);
}

export interface TestImage {
  label: string;
  bytes: Buffer;
}

/**
 * Images that exercise every branch of the preprocessing: landscape and portrait shrinks,
 * enlargements (CIFAR's 32×32, a 33×65 sliver), an extreme aspect ratio, a near-square that
 * crops by one pixel, an exact 224², a large photo, JPEG/PNG/WebP, greyscale and an EXIF
 * rotation. (The Flickr8k files themselves are already 224×224.)
 */
export async function testImages(): Promise<TestImage[]> {
  const photos = flickrTestImages(8);
  const shapes: Array<[number, number, 'jpeg' | 'png' | 'webp']> = [
    [500, 375, 'jpeg'],
    [375, 500, 'png'],
    [1024, 300, 'jpeg'],
    [100, 80, 'png'],
    [33, 65, 'jpeg'],
    [2400, 1600, 'jpeg'],
    [225, 224, 'png'],
    [640, 427, 'webp'],
  ];
  const out: TestImage[] = [];
  for (const [i, [w, h, format]] of shapes.entries()) {
    const bytes = await sharp(photos[i]!).resize(w, h, { fit: 'fill' }).toFormat(format).toBuffer();
    out.push({ label: `${w}×${h} ${format}`, bytes });
  }
  out.push({ label: '224×224 jpeg (as stored)', bytes: fs.readFileSync(photos[0]!) });
  const cifar = path.join(CIFAR_DIR, 'test', 'cat');
  out.push({ label: '32×32 CIFAR-10 jpeg', bytes: fs.readFileSync(path.join(cifar, fs.readdirSync(cifar).sort()[0]!)) });
  out.push({ label: '300×200 greyscale jpeg', bytes: await sharp(photos[1]!).resize(300, 200, { fit: 'fill' }).grayscale().jpeg().toBuffer() });
  out.push({
    label: '400×250 jpeg, EXIF orientation 6',
    bytes: await sharp(photos[2]!).resize(400, 250, { fit: 'fill' }).withMetadata({ orientation: 6 }).jpeg().toBuffer(),
  });
  return out;
}
