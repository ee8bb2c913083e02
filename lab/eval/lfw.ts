import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { resolvePaths, type VisorPaths } from '../../src/config.js';
import { FaceReader } from '../../src/faces/face-reader.js';
import { FACE_DIM } from '../../src/models/face-embedder.js';
import { locateDataset } from './datasets.js';

/** LFW (deep-funneled): images by person, and the official pair and person splits. */
export interface Lfw {
  dir: string;
  /** Relative image paths (images/<Person>/<Person>_NNNN.jpg), sorted as labels.csv. */
  images: string[];
  person: string[];
}

export interface LfwPair {
  a: string;
  b: string;
  same: boolean;
}

export function loadLfw(paths?: VisorPaths): Lfw {
  const dir = locateDataset('lfw-deepfunneled', 'pairs.txt', paths);
  const lines = fs.readFileSync(path.join(dir, 'labels.csv'), 'utf8').trim().split('\n').slice(1);
  const images: string[] = [];
  const person: string[] = [];
  for (const l of lines) {
    const comma = l.lastIndexOf(',');
    images.push(l.slice(0, comma));
    person.push(l.slice(comma + 1));
  }
  return { dir, images, person };
}

const img = (name: string, n: string) => `images/${name}/${name}_${n.padStart(4, '0')}.jpg`;

/** Pairs of pairs.txt (10 folds of 600) or of a View 1 file (one fold), as relative image paths. */
export function loadPairs(lfw: Lfw, file: 'pairs.txt' | 'pairsDevTrain.txt' | 'pairsDevTest.txt'): LfwPair[][] {
  const lines = fs.readFileSync(path.join(lfw.dir, file), 'utf8').trim().split('\n');
  const head = lines[0]!.trim().split(/\s+/).map(Number);
  const [folds, per] = head.length === 2 ? [head[0]!, head[1]!] : [1, head[0]!];
  const out: LfwPair[][] = [];
  let i = 1;
  for (let f = 0; f < folds; f++) {
    const fold: LfwPair[] = [];
    for (let k = 0; k < 2 * per; k++) {
      const p = lines[i++]!.trim().split('\t');
      fold.push(p.length === 3 ? { a: img(p[0]!, p[1]!), b: img(p[0]!, p[2]!), same: true } : { a: img(p[0]!, p[1]!), b: img(p[2]!, p[3]!), same: false });
    }
    out.push(fold);
  }
  return out;
}

/** Names of a person split file (peopleDevTrain.txt, peopleDevTest.txt: a count, then name\tcount lines). */
export function loadPeopleSplit(lfw: Lfw, file: 'peopleDevTrain.txt' | 'peopleDevTest.txt'): Set<string> {
  const lines = fs.readFileSync(path.join(lfw.dir, file), 'utf8').trim().split('\n').slice(1);
  return new Set(lines.map((l) => l.split('\t')[0]!));
}

/** The face read in each LFW image: the detection nearest the centre (the labelled person). */
export interface LfwFaces {
  /** Reader id the embeddings came from. */
  reader: string;
  /** Row per image of Lfw.images: its embedding (zeros when no face was found). */
  embeddings: Float32Array;
  found: Uint8Array;
  low: Uint8Array;
  size: Float32Array;
  sharpness: Float32Array;
  /** Faces found per image (others at the edges included). */
  faces: Uint8Array;
  /** Images where no face passed the usual threshold and the centre face came from a lower one (0.3). */
  fallback: number;
  seconds: number;
}

/**
 * Detects and embeds the centre face of every LFW image once, kept in the cache folder
 * (lab/lfw-faces-<reader>.bin): the verification and grouping evaluations then read it.
 */
export async function lfwFaces(
  lfw: Lfw,
  opts: { paths?: VisorPaths; refresh?: boolean; onProgress?: (done: number, total: number) => void } = {},
): Promise<LfwFaces> {
  const paths = opts.paths ?? resolvePaths();
  const reader = await FaceReader.load({ paths });
  const file = path.join(paths.cacheDir, 'lab', `lfw-faces-${reader.id}.bin`);
  const n = lfw.images.length;
  const rowBytes = FACE_DIM * 4 + 4 * 4;
  if (!opts.refresh && fs.existsSync(file) && fs.statSync(file).size === n * rowBytes + 16) {
    await reader.close();
    const buf = fs.readFileSync(file);
    const head = new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + 16));
    const out = blank(reader.id, n);
    out.fallback = head[0]!;
    out.seconds = head[1]!;
    for (let i = 0; i < n; i++) {
      const row = new Float32Array(buf.buffer.slice(buf.byteOffset + 16 + i * rowBytes, buf.byteOffset + 16 + (i + 1) * rowBytes));
      out.embeddings.set(row.subarray(0, FACE_DIM), i * FACE_DIM);
      const [flags, size, sharp, faces] = row.subarray(FACE_DIM);
      out.found[i] = flags! & 1;
      out.low[i] = (flags! >> 1) & 1;
      out.size[i] = size!;
      out.sharpness[i] = sharp!;
      out.faces[i] = faces!;
    }
    return out;
  }
  const out = blank(reader.id, n);
  const t0 = performance.now();
  try {
    for (let i = 0; i < n; i++) {
      const { data, info } = await sharp(path.join(lfw.dir, lfw.images[i]!)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const image = { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
      let faces = await reader.faces(image);
      if (faces.length === 0) {
        faces = await reader.faces(image, { minScore: 0.3 });
        if (faces.length > 0) out.fallback++;
      }
      out.faces[i] = Math.min(255, faces.length);
      const cx = info.width / 2;
      const cy = info.height / 2;
      const centre = faces.map((f) => ({ f, d: Math.hypot((f.box[0] + f.box[2]) / 2 - cx, (f.box[1] + f.box[3]) / 2 - cy) })).sort((a, b) => a.d - b.d)[0]?.f;
      if (centre) {
        out.found[i] = 1;
        out.low[i] = centre.low ? 1 : 0;
        out.size[i] = centre.size;
        out.sharpness[i] = centre.sharpness;
        out.embeddings.set(centre.embedding, i * FACE_DIM);
      }
      opts.onProgress?.(i + 1, n);
    }
  } finally {
    await reader.close();
  }
  out.seconds = (performance.now() - t0) / 1000;
  const buf = Buffer.alloc(n * rowBytes + 16);
  Buffer.from(new Float64Array([out.fallback, out.seconds]).buffer).copy(buf, 0);
  for (let i = 0; i < n; i++) {
    const row = new Float32Array(FACE_DIM + 4);
    row.set(out.embeddings.subarray(i * FACE_DIM, (i + 1) * FACE_DIM));
    row.set([out.found[i]! | (out.low[i]! << 1), out.size[i]!, out.sharpness[i]!, out.faces[i]!], FACE_DIM);
    Buffer.from(row.buffer).copy(buf, 16 + i * rowBytes);
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, buf);
  return out;
}

function blank(reader: string, n: number): LfwFaces {
  return {
    reader,
    embeddings: new Float32Array(n * FACE_DIM),
    found: new Uint8Array(n),
    low: new Uint8Array(n),
    size: new Float32Array(n),
    sharpness: new Float32Array(n),
    faces: new Uint8Array(n),
    fallback: 0,
    seconds: 0,
  };
}
