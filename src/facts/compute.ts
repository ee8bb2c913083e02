import { FACT_STAGES, MAX_OBJECTS, MAX_TEXT_BOXES, type Detection, type FactBox, type FactStage, type ImageFacts, type TextLine } from '../core/facts.js';
import { errorMessage, isVisorError } from '../errors.js';
import { decodeRgbFit } from '../image/decode.js';
import type { DecodeLimits } from '../image/limits.js';
import type { FactReader, RgbImage } from './reader.js';

/**
 * Longest side the fact readers see. The detector reads 416×416 and the colours a sample of
 * pixels, but text detection needs print to stay a few pixels tall: 1280 keeps a caption in a
 * phone photo readable while bounding the work per image (a 12-megapixel JPEG decodes at half
 * scale through shrink-on-load, then is resized once). Smaller images are used as they are.
 */
export const FACTS_MAX_SIDE = 1280;

/** Stages whose facts depend on an earlier stage's: recomputed when that stage is (box colours). */
const NEEDS: Partial<Record<FactStage, FactStage>> = { colours: 'objects' };

/** One image's fact work: its bytes, the stages to compute, and what it already has. */
export interface FactsJob {
  id: string;
  bytes: Uint8Array;
  stages: FactStage[];
  existing?: ImageFacts;
}

export type FactsOutcome = { ok: true; facts: ImageFacts } | { ok: false; reason: string };

/**
 * The enabled stages an item's facts lack, in reading order, plus those that depend on one of
 * them (objects found now need their box colours named): [] when there is nothing to do.
 */
export function stagesToCompute(existing: ImageFacts | undefined, enabled: readonly FactStage[]): FactStage[] {
  const todo = new Set(enabled.filter((s) => existing?.stages[s] === undefined));
  for (const s of enabled) {
    const need = NEEDS[s];
    if (need && todo.has(need)) todo.add(s);
  }
  return FACT_STAGES.filter((s) => todo.has(s));
}

/** Decodes an image once for every fact reader: EXIF-rotated RGB, shrunk to fit FACTS_MAX_SIDE; with the image's own size. */
export async function decodeForFacts(bytes: Buffer, limits: DecodeLimits, maxSide = FACTS_MAX_SIDE): Promise<{ image: RgbImage; width: number; height: number }> {
  const d = await decodeRgbFit(bytes, maxSide, limits);
  return { image: { data: d.pixels, width: d.pixelsWidth, height: d.pixelsHeight }, width: d.width, height: d.height };
}

const round1 = (v: number) => Math.round(v * 10) / 10;

function scaleBox(b: FactBox, sx: number, sy: number): FactBox {
  return [round1(b[0] * sx), round1(b[1] * sy), round1(b[2] * sx), round1(b[3] * sy)];
}

/** The same facts with every box scaled by (sx, sy): from the readers' pixels to the image's own. */
function scaleFields(f: Partial<ImageFacts>, sx: number, sy: number): Partial<ImageFacts> {
  const out: Partial<ImageFacts> = { ...f };
  if (f.objects) out.objects = f.objects.map((o) => ({ ...o, box: scaleBox(o.box, sx, sy) }));
  if (f.text) out.text = f.text.map((t) => ({ ...t, box: scaleBox(t.box, sx, sy) }));
  if (f.faces)
    out.faces = f.faces.map((t) => ({ ...t, box: scaleBox(t.box, sx, sy), landmarks: t.landmarks.map((v, i) => round1(v * (i % 2 === 0 ? sx : sy))) }));
  return out;
}

const area = (b: FactBox) => Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);

/** Keeps the `max` best of a list by `rank` (higher first), in their original order. */
function keepBest<T>(list: T[], max: number, rank: (t: T) => number): T[] {
  if (list.length <= max) return list;
  const kept = new Set([...list].sort((a, b) => rank(b) - rank(a)).slice(0, max));
  return list.filter((t) => kept.has(t));
}

/** Applies the caps: at most MAX_OBJECTS objects (lowest scores dropped), MAX_TEXT_BOXES text boxes (smallest dropped). */
export function capFacts<T extends Partial<ImageFacts>>(f: T): T {
  const out = { ...f };
  if (out.objects) out.objects = keepBest<Detection>(out.objects, MAX_OBJECTS, (o) => o.score);
  if (out.text) out.text = keepBest<TextLine>(out.text, MAX_TEXT_BOXES, (t) => area(t.box));
  return out;
}

/**
 * Runs the readers of `stages` (objects → colours → text, each given what was found so far) on
 * one decoded image and merges what they find into the item's existing facts. `size` is the
 * image's own width and height, which the boxes are scaled back to. A reader's failure throws,
 * naming its stage.
 */
export async function computeFacts(
  image: RgbImage,
  size: { width: number; height: number },
  readers: ReadonlyMap<FactStage, FactReader>,
  stages: readonly FactStage[],
  existing?: ImageFacts,
): Promise<ImageFacts> {
  const down = { x: image.width / size.width, y: image.height / size.height };
  const redo = new Set(stages);
  // What is kept from before, in the readers' pixels, without the fields being recomputed.
  const kept: ImageFacts = { stages: {}, width: size.width, height: size.height };
  for (const s of FACT_STAGES) {
    if (redo.has(s) || existing?.stages[s] === undefined) continue;
    kept.stages[s] = existing.stages[s];
    if (existing[s]) Object.assign(kept, { [s]: existing[s] });
  }
  let sofar: Partial<ImageFacts> = scaleFields(kept, down.x, down.y);
  const produced = new Set<keyof ImageFacts>();
  for (const stage of FACT_STAGES) {
    if (!redo.has(stage)) continue;
    const reader = readers.get(stage);
    if (!reader) throw new Error(`no ${stage} reader loaded`);
    let found: Partial<ImageFacts>;
    try {
      found = capFacts(await reader.read(image, sofar));
    } catch (e) {
      throw new Error(`${stage}: ${errorMessage(e)}`, { cause: e });
    }
    for (const k of Object.keys(found) as Array<keyof ImageFacts>) if (k !== 'stages' && k !== 'width' && k !== 'height') produced.add(k);
    sofar = { ...sofar, ...found, stages: { ...sofar.stages, [stage]: reader.id } };
    // A stage that ran stores a list, maybe empty: "looked and found nothing".
    if (sofar[stage] === undefined) sofar = { ...sofar, [stage]: [] };
    produced.add(stage);
  }
  const up = scaleFields(sofar, 1 / down.x, 1 / down.y);
  const out: ImageFacts = { ...kept, stages: { ...sofar.stages }, width: size.width, height: size.height };
  for (const k of produced) Object.assign(out, { [k]: up[k] });
  // Stored in reading order, whatever order the fields were found in.
  const ordered: ImageFacts = { stages: {}, width: out.width, height: out.height };
  for (const s of FACT_STAGES) {
    if (out.stages[s] !== undefined) ordered.stages[s] = out.stages[s];
  }
  for (const s of FACT_STAGES) if (out[s] !== undefined) Object.assign(ordered, { [s]: out[s] });
  return ordered;
}

/** Decodes one file and computes its facts; never throws: a file that cannot be read comes back with a reason. */
export async function factsOfFile(job: FactsJob, readers: ReadonlyMap<FactStage, FactReader>, limits: DecodeLimits): Promise<FactsOutcome> {
  let decoded: Awaited<ReturnType<typeof decodeForFacts>>;
  try {
    decoded = await decodeForFacts(Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength), limits);
  } catch (e) {
    return { ok: false, reason: isVisorError(e) ? e.message : `cannot decode (${errorMessage(e)})` };
  }
  try {
    return { ok: true, facts: await computeFacts(decoded.image, decoded, readers, job.stages, job.existing) };
  } catch (e) {
    return { ok: false, reason: `facts failed: ${errorMessage(e)}` };
  }
}
