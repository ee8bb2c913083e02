/**
 * The faces stage on the 1,000 Flickr8k test photos, through the normal index path: the time
 * per image with the stage on against the default stages, and the faces found per image
 * against the people the captions speak of (a report: the captions are not face labels, a
 * person seen from behind or far away has no face to find).
 *
 *   npm run bench:faces            (prints a table; --json for the figures)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Collection } from '../../src/collection.js';
import { FacesTable } from '../../src/faces/faces-table.js';
import { DEFAULT_FACT_STAGES } from '../../src/facts/settings.js';
import { contentId } from '../../src/ingest/read-image.js';
import { loadFlickr8k } from '../eval/datasets.js';

/** Words that name people in a caption, with how many each says (0: some, unsaid). */
const PEOPLE_WORDS = new Map<string, number>([
  ...[
    'man',
    'woman',
    'boy',
    'girl',
    'child',
    'person',
    'baby',
    'toddler',
    'guy',
    'lady',
    'kid',
    'teenager',
    'player',
    'skier',
    'biker',
    'surfer',
    'climber',
    'rider',
    'snowboarder',
    'skateboarder',
    'swimmer',
    'runner',
    'dancer',
  ].map((w) => [w, 1] as [string, number]),
  ...[
    'men',
    'women',
    'boys',
    'girls',
    'children',
    'people',
    'persons',
    'kids',
    'guys',
    'ladies',
    'teenagers',
    'players',
    'crowd',
    'group',
    'team',
    'family',
    'couple',
  ].map((w) => [w, 0] as [string, number]),
]);
const NUMBERS = new Map([
  ['two', 2],
  ['three', 3],
  ['four', 4],
  ['five', 5],
  ['six', 6],
  ['couple', 2],
]);

/** How many people a caption speaks of: 0 none, n when it says or implies a number, -1 several unsaid. */
function peopleIn(caption: string): number {
  const words = caption.toLowerCase().match(/[a-z]+/g) ?? [];
  let total = 0;
  let several = false;
  words.forEach((w, i) => {
    const n = PEOPLE_WORDS.get(w);
    if (n === undefined) return;
    const said = NUMBERS.get(words[i - 1] ?? '') ?? NUMBERS.get(w);
    if (said) total += said;
    else if (n === 1) total += 1;
    else several = true;
  });
  return several && total < 2 ? -1 : total;
}

async function run(dir: string, db: string, facts: readonly string[]): Promise<{ seconds: number; cpuMs: number; images: number }> {
  const c = await Collection.open({ db, create: true });
  const t0 = performance.now();
  const u0 = process.cpuUsage();
  const s = await c.index([dir], { facts });
  const u = process.cpuUsage(u0);
  const seconds = (performance.now() - t0) / 1000;
  await c.close();
  return { seconds, cpuMs: (u.user + u.system) / 1000, images: s.indexed };
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const images = loadFlickr8k('test').images;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'visor-bench-faces-'));
  try {
    const dir = path.join(tmp, 'flickr1k');
    fs.mkdirSync(dir);
    for (const im of images) fs.copyFileSync(im.path, path.join(dir, path.basename(im.path)));
    const base = await run(dir, path.join(tmp, 'db-default'), DEFAULT_FACT_STAGES);
    const withFaces = await run(dir, path.join(tmp, 'db-faces'), [...DEFAULT_FACT_STAGES, 'faces']);
    // Faces per image from the faces table, against the captions.
    const c = await Collection.open({ db: path.join(tmp, 'db-faces') });
    const snap = await (await FacesTable.open(c.store)).all();
    const people = await c.people();
    await c.close();
    const rows = images.map((im) => {
      const id = contentId(fs.readFileSync(im.path));
      const said = im.captions.map(peopleIn);
      const mentions = said.filter((n) => n !== 0).length;
      const numbers = said.filter((n) => n > 0).sort((a, b) => a - b);
      return {
        faces: snap.byItem.get(id)?.length ?? 0,
        good: snap.byItem.get(id)?.filter((f) => !f.low).length ?? 0,
        mentions,
        median: numbers[Math.floor(numbers.length / 2)] ?? 0,
      };
    });
    const groups = {
      'people in ≥3 of 5 captions': rows.filter((r) => r.mentions >= 3),
      'people in 1–2 captions': rows.filter((r) => r.mentions > 0 && r.mentions < 3),
      'no caption speaks of people': rows.filter((r) => r.mentions === 0),
    };
    const report = {
      images: images.length,
      cores: os.availableParallelism(),
      loadAverage: os.loadavg()[0],
      timing: {
        default: { stages: DEFAULT_FACT_STAGES, msPerImage: (1000 * base.seconds) / base.images, coreMsPerImage: base.cpuMs / base.images },
        withFaces: {
          stages: [...DEFAULT_FACT_STAGES, 'faces'],
          msPerImage: (1000 * withFaces.seconds) / withFaces.images,
          coreMsPerImage: withFaces.cpuMs / withFaces.images,
        },
      },
      faces: { total: snap.byId.size, persons: people.length, personsWithTwoOrMore: people.filter((p) => p.images >= 2).length },
      groups: Object.fromEntries(
        Object.entries(groups).map(([k, g]) => [
          k,
          {
            images: g.length,
            withFace: g.filter((r) => r.faces > 0).length / Math.max(1, g.length),
            facesPerImage: g.reduce((s, r) => s + r.faces, 0) / Math.max(1, g.length),
            goodFacesPerImage: g.reduce((s, r) => s + r.good, 0) / Math.max(1, g.length),
          },
        ]),
      ),
      // Where the captions agree on a number of people (median of those saying one): faces found against it.
      byNumberSaid: [1, 2, 3].map((n) => {
        const g = rows.filter((r) => r.mentions >= 3 && (n < 3 ? r.median === n : r.median >= 3));
        return {
          said: n < 3 ? String(n) : '3+',
          images: g.length,
          facesPerImage: g.reduce((s, r) => s + r.faces, 0) / Math.max(1, g.length),
          exact: g.filter((r) => r.faces === r.median).length / Math.max(1, g.length),
        };
      }),
    };
    if (json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return;
    }
    const f2 = (x: number) => x.toFixed(2);
    const t = report.timing;
    process.stdout.write(
      `faces stage on ${report.images} Flickr8k test photos (${report.cores} cores, load average ${report.loadAverage?.toFixed(1)})\n` +
        `bench:index  full pipeline + facts, default (${t.default.stages.join('+')}): ${f2(t.default.msPerImage)} ms/image wall, ${f2(t.default.coreMsPerImage)} core-ms/image (all threads)\n` +
        `bench:index  full pipeline + facts, default+faces: ${f2(t.withFaces.msPerImage)} ms/image wall (+${f2(t.withFaces.msPerImage - t.default.msPerImage)})\n` +
        `faces found: ${report.faces.total}, grouped into ${report.faces.persons} persons (${report.faces.personsWithTwoOrMore} in two photos or more)\n` +
        Object.entries(report.groups)
          .map(
            ([k, g]) =>
              `  ${k}: ${g.images} images, ${(100 * g.withFace).toFixed(1)} % with a face, ${f2(g.facesPerImage)} faces/image (${f2(g.goodFacesPerImage)} good quality)`,
          )
          .join('\n') +
        '\n' +
        report.byNumberSaid
          .map(
            (b) =>
              `  captions say ${b.said} (median): ${b.images} images, ${f2(b.facesPerImage)} faces/image, exactly that many faces in ${(100 * b.exact).toFixed(1)} %`,
          )
          .join('\n') +
        '\n',
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
