import { Collection } from '../../collection.js';
import { displayPath, formatBytes, printJson, table } from '../output.js';
import type { GlobalOptions } from '../run.js';

export async function statsCommand(o: GlobalOptions): Promise<void> {
  const collection = await Collection.open({ db: o.db });
  try {
    // The joint text model `visor index --text-model` recorded: text searches use it.
    const { textModel, textModelSha256 } = collection.store.manifest.settings as { textModel?: string; textModelSha256?: string };
    const s = { ...(await collection.stats()), ...(textModel ? { textModel: { file: textModel, sha256: textModelSha256 } } : {}) };
    if (o.json) return printJson(s);
    const cols =
      Object.entries(s.metaColumns)
        .map(([k, t]) => `${k} (${t})`)
        .join(', ') || 'none';
    const search = s.annIndex
      ? `approximate (${s.annIndex.type}, ${s.annIndex.indexedRows} indexed, ${s.annIndex.unindexedRows} pending), exact re-scoring`
      : 'exact';
    process.stdout.write(
      `${table([
        ['index', s.db],
        ['images', String(s.items)],
        ...(s.shards ? [['shards', String(s.shards)]] : []),
        ['files', `${s.files} (${s.duplicatePaths} duplicate path${s.duplicatePaths === 1 ? '' : 's'})`],
        ['image model', `${s.imageModel} (${s.dimension}-d)`],
        ...s.spaces.map((sp) => [`space ${sp.name}`, `${sp.model} (${sp.dimension}-d, ${sp.items} images)`]),
        ...(textModel ? [['text model', `${displayPath(textModel)}${textModelSha256 ? ` (sha256 ${textModelSha256.slice(0, 12)}…)` : ''}`]] : []),
        ['search', search],
        ['catalogue columns', cols],
        [s.shards ? 'size in the store' : 'size on disk', formatBytes(s.bytesOnDisk)],
        ['schema version', String(s.schemaVersion)],
        ['created', s.createdAt],
      ])}\n`,
    );
  } finally {
    await collection.close();
  }
}
