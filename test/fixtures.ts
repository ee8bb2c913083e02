import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Paths into ../shared, which tests read and never modify. */
export const SHARED = path.resolve(import.meta.dirname, '..', '..', 'shared');
export const MODELS_DIR = path.join(SHARED, 'models');
/** CLIP ViT-B/32's tokenizer and configs (no weights). */
export const CLIP_TOKENIZER_DIR = path.join(MODELS_DIR, 'clip-vit-b32-tokenizer');
export const FLICKR_TEST_IMAGES = path.join(SHARED, 'datasets', 'flickr8k-test1k', 'images');
export const FLICKR_TRAIN_IMAGES = path.join(SHARED, 'datasets', 'flickr8k-trainval', 'images');
export const CIFAR_DIR = path.join(SHARED, 'datasets', 'cifar10-test');

/** The first `n` Flickr8k test images, in a stable (sorted) order. */
export function flickrTestImages(n: number): string[] {
  return fs
    .readdirSync(FLICKR_TEST_IMAGES)
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .slice(0, n)
    .map((f) => path.join(FLICKR_TEST_IMAGES, f));
}

/** A fresh temporary directory, removed by the returned cleanup function. */
export function tempDir(prefix = 'visor-test-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
