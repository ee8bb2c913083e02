import fs from 'node:fs/promises';
import path from 'node:path';
import { isRemoteDb } from '../../config.js';
import { VisorError } from '../../errors.js';
import type { Tag, TagOptions } from '../../concepts/tags.js';
import type { ImageFacts } from '../../core/facts.js';
import { describeFacts } from '../../facts/summary.js';
import { displayPath, printJson } from '../output.js';
import type { GlobalOptions } from '../run.js';

export interface TagsCommandOptions extends GlobalOptions {
  k: number;
  id?: boolean;
  minConfidence?: number;
}

/** Tags for image files (no index needed; with --db, by that collection's model) or for indexed items by id. */
export async function tagsCommand(targets: string[], o: TagsCommandOptions): Promise<number> {
  const opts = { k: o.k, minConfidence: o.minConfidence };
  const out: Array<{ image: string; tags?: Tag[]; facts?: ImageFacts; error?: string }> = [];
  if (o.id) {
    const { Collection } = await import('../../collection.js');
    const c = await Collection.open({ db: o.db });
    try {
      const { resolveItemIds } = await import('../ids.js');
      const ids = await resolveItemIds(c, targets); // the short ids visor search shows
      for (const id of ids) out.push({ image: id, tags: await c.tags({ id }, opts), ...withFacts(await c.imageFacts({ id })) });
    } finally {
      await c.close();
    }
  } else {
    const tagger = await fileTagger(o.db);
    try {
      for (const file of targets) {
        // One unreadable or broken image is reported, not fatal: the others still get tags.
        try {
          const bytes = await fs.readFile(file).catch((e: NodeJS.ErrnoException) => {
            const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'it is a folder' : `cannot read: ${e.message}`;
            throw new VisorError('IMAGE_UNREADABLE', why);
          });
          out.push({ image: file, tags: await tagger.tags(bytes, opts), ...withFacts(await tagger.facts(bytes)) });
        } catch (e) {
          out.push({ image: file, error: (e as Error).message });
        }
      }
    } finally {
      await tagger.close();
    }
  }
  if (o.json) printJson(out);
  else {
    for (const r of out) {
      const name = o.id ? r.image : displayPath(r.image);
      // The file's name first: with several images, which one failed matters.
      if (r.error) process.stderr.write(`visor: ${name}: ${r.error}\n`);
      else {
        process.stdout.write(`${name}: ${r.tags!.map((t) => `${t.label} ${t.confidence.toFixed(2)}`).join(', ') || '(nothing confident)'}\n`);
        for (const line of r.facts ? describeFacts(r.facts) : []) process.stdout.write(`  ${line}\n`);
      }
    }
  }
  const failed = out.filter((r) => r.error).length;
  return failed === 0 ? 0 : failed === out.length ? 2 : 1;
}

const withFacts = (facts: ImageFacts | null) => (facts ? { facts } : {});

/**
 * Tags image files: with `--db` naming an existing index, as that collection tags them (its main
 * model: MobileNetV2's classes, or a CLIP-family model's text tower over the same vocabulary);
 * otherwise by MobileNetV2, with no index needed.
 */
async function fileTagger(db: string | undefined): Promise<{
  tags(bytes: Buffer, opts: TagOptions): Promise<Tag[]>;
  /** What the image shows (objects, colours, text), where the collection knows it. */
  facts(bytes: Buffer): Promise<ImageFacts | null>;
  close(): Promise<void>;
}> {
  const { readIndexManifest } = await import('../../store/index.js');
  if (db !== undefined && (await readIndexManifest(isRemoteDb(db) ? db : path.resolve(db)))) {
    const { Collection } = await import('../../collection.js');
    const c = await Collection.open({ db });
    return { tags: (bytes, opts) => c.tags(bytes, opts), facts: (bytes) => c.imageFacts(bytes, { compute: 'enabled' }), close: () => c.close() };
  }
  const [{ MobileNetV2, imagenetClasses }, { loadConceptSpace }, { Tagger }, { encodeImage }] = await Promise.all([
    import('../../models/mobilenet.js'),
    import('../../concepts/concept-space.js'),
    import('../../concepts/tags.js'),
    import('../../search/encode-image.js'),
  ]);
  const tagger = new Tagger(await loadConceptSpace(await imagenetClasses()));
  const model = await MobileNetV2.load();
  return { tags: async (bytes, opts) => tagger.tags((await encodeImage(model, bytes)).probs, opts), facts: async () => null, close: () => model.close() };
}
