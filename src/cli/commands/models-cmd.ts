import { resolvePaths } from '../../config.js';
import { VisorError } from '../../errors.js';
import { sha256File } from '../../models/download.js';
import { findModel, listModels, type ModelSpec } from '../../models/registry.js';
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
  const models = listModels().map((m) => ({ id: m.id, title: m.title, task: m.task, licence: m.licence, homepage: m.homepage, files: status(m) }));
  if (o.json) return printJson(models);
  const rows = [['model', 'status', 'size', 'licence']];
  for (const m of models) {
    const ready = m.files.every((f) => f.state === 'found');
    const size = m.files.reduce((a, f) => a + f.size, 0);
    rows.push([m.id, ready ? 'available' : 'downloadable', formatBytes(size), m.licence]);
  }
  process.stdout.write(`${table(rows)}\n`);
}

function requireModel(id: string): ModelSpec {
  const spec = findModel(id);
  if (!spec) throw new VisorError('MODEL_UNKNOWN', `unknown model ${JSON.stringify(id)}; known: ${listModels().map((m) => m.id).join(', ')}`);
  return spec;
}

export async function modelsPullCommand(id: string, o: GlobalOptions): Promise<void> {
  const spec = requireModel(id);
  const bar = createProgress('auto', 'bytes');
  const files = await resolveModel(spec, {
    download: true,
    onDownloadStart: (f) => process.stderr.write(`downloading ${f.name} from ${f.url}\n`),
    onDownloadProgress: (f, p) => bar.update({ phase: f.name, done: p.received, total: p.total ?? f.size }),
  });
  bar.stop();
  if (o.json) return printJson({ id, files });
  for (const [name, p] of Object.entries(files)) process.stdout.write(`${name}: ${displayPath(p)}\n`);
}

export async function modelsVerifyCommand(id: string | undefined, o: GlobalOptions): Promise<number> {
  const specs = id ? [requireModel(id)] : [...listModels()];
  const results = [];
  for (const spec of specs) {
    for (const f of status(spec)) {
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
  else process.stdout.write(`${table(results.map((r) => [r.ok ? 'ok' : 'FAIL', `${r.model}/${r.file}`, r.detail]))}\n`);
  return results.every((r) => r.ok) ? 0 : 1;
}
