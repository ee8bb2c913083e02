import crypto from 'node:crypto';
import fs from 'node:fs';
import { VisorError } from '../errors.js';
import type { WordTokenizerSpec } from '../text/word-tokenizer.js';
import type { JointArchitecture } from './joint-net.js';

/**
 * The `.joint` model file: everything needed to embed text and images into one space.
 *
 *   bytes 0–7    magic "VISORJNT"
 *   bytes 8–11   header length H (uint32, little-endian)
 *   bytes 12…    header: UTF-8 JSON (JointHeader), padded with spaces to a multiple of 8
 *   then         the weights: float32 little-endian, each tensor at its `offset` (bytes from
 *                the start of the weights), row-major
 *
 * The header is plain JSON so a person (or another language) can read what a model is
 * without loading it; the format version is checked on load, and files written by a newer
 * Visor are refused with a reason rather than misread.
 *
 * A model is one or more members (an ensemble, e.g. one network per loss): each has its own
 * architecture, tokenizer and tensors (names prefixed `m<i>.`); the model's vector is the
 * concatenation of the members' unit vectors, each scaled by 1/√members, so it is a unit
 * vector too and its inner products are the mean of the members' cosines.
 */
export const JOINT_MAGIC = 'VISORJNT';
export const JOINT_FORMAT_VERSION = 1;

export interface TensorEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
  offset: number;
}

export interface JointHeader {
  format: 'visor-joint';
  version: number;
  /** A short name for listings, e.g. "flickr8k". */
  name: string;
  createdAt: string;
  /** The image model whose outputs the image head reads; features from another model would be meaningless. */
  imageModel: string;
  /** Size of the model's vectors: the sum of the members' dimensions. */
  dimension: number;
  members: JointMember[];
  /** How it was trained and what it scored on the dev split (informative). */
  training: Record<string, unknown>;
  /**
   * Querybank normalisation (src/models/query-bank.ts): the temperature of each bank, whose
   * vectors are the tensors `bank.text` (training captions, normalising images for text
   * queries) and `bank.image` (training images, normalising captions for image queries).
   * Absent in files from before it existed: no normalisation.
   */
  queryBanks?: { text?: { beta: number }; image?: { beta: number } };
  tensors: TensorEntry[];
  /** sha256 of the weights section, checked on load. */
  weightsSha256: string;
}

export interface JointMember {
  /** Prefix of this member's tensor names, e.g. "m0.". */
  prefix: string;
  architecture: JointArchitecture;
  tokenizer: WordTokenizerSpec;
  /** How the member was trained (loss, settings, dev figures); informative. */
  training?: Record<string, unknown>;
}

export interface JointFile {
  header: JointHeader;
  tensors: Map<string, Float32Array>;
}

/** Serialises a model; returns the file's sha256. Written via a temporary file and a rename. */
export function writeJointFile(
  file: string,
  header: Omit<JointHeader, 'tensors' | 'weightsSha256' | 'format' | 'version'>,
  tensors: Map<string, { shape: number[]; data: Float32Array }>,
): string {
  const entries: TensorEntry[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (t.data.length !== t.shape.reduce((a, d) => a * d, 1)) throw new Error(`tensor ${name}: ${t.data.length} values for shape [${t.shape}]`);
    entries.push({ name, shape: t.shape, dtype: 'float32', offset });
    offset += t.data.length * 4;
  }
  const weights = Buffer.alloc(offset);
  for (const [i, t] of [...tensors.values()].entries()) {
    const b = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (b.length > 0) b.copy(weights, entries[i]!.offset);
  }
  const full: JointHeader = {
    format: 'visor-joint',
    version: JOINT_FORMAT_VERSION,
    ...header,
    tensors: entries,
    weightsSha256: crypto.createHash('sha256').update(weights).digest('hex'),
  };
  let json = Buffer.from(JSON.stringify(full), 'utf8');
  const pad = (8 - ((12 + json.length) % 8)) % 8;
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const prefix = Buffer.alloc(12);
  prefix.write(JOINT_MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(json.length, 8);
  const bytes = Buffer.concat([prefix, json, weights]);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, file);
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

function invalid(file: string, why: string): VisorError {
  return new VisorError('MODEL_INVALID', `${file} is not a usable joint model: ${why}`);
}

/** Reads only the JSON header (listings, `visor models`), not the weights. */
export function readJointHeader(file: string): JointHeader {
  return parse(file, fs.readFileSync(file), false).header;
}

export function readJointFile(file: string): JointFile {
  return parse(file, fs.readFileSync(file), true);
}

function parse(file: string, bytes: Buffer, withWeights: boolean): JointFile {
  if (bytes.length < 12 || bytes.toString('latin1', 0, 8) !== JOINT_MAGIC) throw invalid(file, 'not a .joint file (bad magic)');
  const h = bytes.readUInt32LE(8);
  if (12 + h > bytes.length) throw invalid(file, 'truncated header');
  let header: JointHeader;
  try {
    header = JSON.parse(bytes.toString('utf8', 12, 12 + h)) as JointHeader;
  } catch (e) {
    throw invalid(file, `header is not JSON (${(e as Error).message})`);
  }
  if (header.format !== 'visor-joint') throw invalid(file, `format ${JSON.stringify(header.format)}`);
  if (!(header.version >= 1 && header.version <= JOINT_FORMAT_VERSION)) {
    throw invalid(file, `format version ${header.version}; this Visor reads up to ${JOINT_FORMAT_VERSION} — upgrade Visor`);
  }
  const tensors = new Map<string, Float32Array>();
  if (!withWeights) return { header, tensors };
  const weights = bytes.subarray(12 + h);
  const sha = crypto.createHash('sha256').update(weights).digest('hex');
  if (sha !== header.weightsSha256) throw invalid(file, 'weights do not match their sha256 (corrupt or truncated file)');
  for (const t of header.tensors) {
    const n = t.shape.reduce((a, d) => a * d, 1);
    if (t.dtype !== 'float32' || t.offset + n * 4 > weights.length) throw invalid(file, `tensor ${t.name} out of bounds`);
    // Copied out: the weights section need not be 4-byte aligned in the Buffer pool.
    tensors.set(t.name, new Float32Array(new Uint8Array(weights.subarray(t.offset, t.offset + n * 4)).buffer));
  }
  return { header, tensors };
}
