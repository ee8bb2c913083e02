import { resolvePaths } from '../../config.js';
import { VisorError } from '../../errors.js';
import { sha256File } from '../../models/download.js';
import { addLocalModel, findAnyModel, listAllModels } from '../../models/local-models.js';
import type { ModelSpec } from '../../models/registry.js';
import { locateModelFile, resolveModel } from '../../models/resolve.js';
import { displayPath, formatBytes, printJson, table } from '../output.js';
import { createProgress } from '../progress.js';
import type { GlobalOptions } from '../run.js';

function status(spec: ModelSpec) {
  const paths = resolvePaths();
  return spec.files.map((f) => {
    try {
      const loc = locateModelFile(spec, f, paths);
      return { file: f.name, size: f.size, state: loc.state, path: loc.state === 'found' ? loc.path : loc.cachePath };
    } catch (e) {
      return { file: f.name, size: f.size, state: 'wrong size', path: (e as Error).message };
    }
  });
}

export async function modelsListCommand(o: GlobalOptions): Promise<void> {
  const models = listAllModels().map((m) => ({
    id: m.id,
    title: m.title,
    task: m.task,
    licence: m.licence,
    homepage: m.homepage,
    ...(m.folder ? { folder: m.folder } : {}),
    files: status(m),
  }));
  if (o.json) return printJson(models);
  const rows = [['model', 'status', 'size', 'licence']];
  for (const m of models) {
    const ready = m.files.every((f) => f.state === 'found');
    const size = m.files.reduce((a, f) => a + f.size, 0);
    const state = ready ? 'available' : m.folder ? 'missing files' : 'downloadable';
    rows.push([m.id, state, formatBytes(size), m.licence]);
  }
  process.stdout.write(`${table(rows)}\n`);
}

function requireModel(id: string): ModelSpec {
  const spec = findAnyModel(id);
  if (!spec)
    throw new VisorError(
      'MODEL_UNKNOWN',
      `unknown model ${JSON.stringify(id)}; known: ${listAllModels()
        .map((m) => m.id)
        .join(', ')}`,
    );
  return spec;
}

export async function modelsPullCommand(id: string, o: GlobalOptions): Promise<void> {
  const spec = requireModel(id);
  const bar = createProgress('auto', 'bytes');
  const files = await resolveModel(spec, {
    download: true,
    onDownloadStart: (f, url) => process.stderr.write(`downloading ${f.name} from ${url}\n`),
    onDownloadProgress: (f, p) => bar.update({ phase: f.name, done: p.received, total: p.total ?? f.size }),
  });
  bar.stop();
  if (o.json) return printJson({ id, files });
  for (const [name, p] of Object.entries(files)) process.stdout.write(`${name}: ${displayPath(p)}\n`);
}

export async function modelsVerifyCommand(id: string | undefined, o: GlobalOptions): Promise<number> {
  const specs = id ? [requireModel(id)] : listAllModels();
  const results = [];
  const notDownloaded: string[] = [];
  for (const spec of specs) {
    const files = status(spec);
    // Verifying everything checks what is here: an optional model never pulled is not a failure
    // (named, it is; and a model with some of its files is).
    if (!id && !spec.folder && files.every((f) => f.state === 'missing')) {
      notDownloaded.push(spec.id);
      continue;
    }
    for (const f of files) {
      if (f.state !== 'found') {
        results.push({ model: spec.id, file: f.file, ok: false, detail: f.state });
        continue;
      }
      const expected = spec.files.find((x) => x.name === f.file)!.sha256;
      const actual = await sha256File(f.path);
      results.push({ model: spec.id, file: f.file, ok: actual === expected, detail: actual === expected ? f.path : `sha256 ${actual}, expected ${expected}` });
    }
  }
  if (o.json) printJson(results);
  else if (results.length) process.stdout.write(`${table(results.map((r) => [r.ok ? 'ok' : 'FAIL', `${r.model}/${r.file}`, r.detail]))}\n`);
  if (notDownloaded.length && !o.json) process.stderr.write(`not downloaded (not checked): ${notDownloaded.join(', ')}\n`);
  return results.every((r) => r.ok) ? 0 : 1;
}

export interface ModelsAddOptions extends GlobalOptions {
  format: string;
  id?: string;
  variant?: string;
}

/** Records a local model folder under an id, after checking that it loads and embeds. */
export async function modelsAddCommand(folder: string, o: ModelsAddOptions): Promise<void> {
  if (o.format !== 'hf-onnx') throw new VisorError('QUERY_INVALID', `unknown format ${JSON.stringify(o.format)}; supported: hf-onnx`);
  const added = await addLocalModel(folder, { id: o.id, variant: o.variant });
  const { spec } = added;
  if (o.json)
    return printJson({
      id: spec.id,
      folder: spec.folder,
      dimension: added.dimension,
      text: !added.noText,
      noText: added.noText,
      files: spec.files.map(({ name, size, sha256 }) => ({ name, size, sha256 })),
    });
  process.stdout.write(`added ${spec.id} (${added.dimension}-d embeddings) from ${displayPath(spec.folder!)}\n`);
  for (const f of spec.files) process.stdout.write(`  ${f.name}  ${formatBytes(f.size)}  sha256 ${f.sha256}\n`);
  if (added.noText) process.stdout.write(`note: images only, texts cannot be embedded: ${added.noText}\n`);
}
