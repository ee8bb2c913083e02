import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, copyFlickrTestImages, ROOT, tempDir, visor, visorLab } from './fixtures.js';

// What a user sees when something is wrong: the reason, in words they can act on, and exit 2.
describe('visor CLI messages', () => {
  const tmp = tempDir('visor-cli-msg-');
  const photos = path.join(tmp.dir, 'photos');
  const db = path.join(tmp.dir, 'db');
  let files: string[];

  beforeAll(() => {
    files = copyFlickrTestImages(6, photos);
    fs.writeFileSync(
      path.join(tmp.dir, 'catalogue.csv'),
      ['file,title,price', ...files.map((f, i) => `photos/${path.basename(f)},Item ${i},${i * 10}`)].join('\n'),
    );
    const r = visor(['--db', db, 'index', photos, path.join(tmp.dir, 'catalogue.csv'), '--progress', 'none']);
    expect(r.code).toBe(0);
  });
  afterAll(() => tmp.cleanup());

  it('names the query image that is broken or missing', () => {
    const text = path.join(tmp.dir, 'catalogue.csv');
    const search = visor(['--db', db, 'search', '--image', files[0]!, '--image', text]);
    expect(search.code).toBe(2);
    expect(search.stderr.trim()).toBe(`visor: query image ${text}: not an image (unrecognised format)`);
    const missing = path.join(tmp.dir, 'missing.jpg');
    const tags = visor(['tags', files[0]!, text, missing]);
    expect(tags.code).toBe(1); // some failed, not all
    expect(tags.stdout).toContain(`${files[0]}: `);
    expect(tags.stderr).toBe(`visor: ${text}: not an image (unrecognised format)\nvisor: ${missing}: no such file\n`);
  });

  it('refuses to index a source that does not exist, before creating an index', () => {
    const fresh = path.join(tmp.dir, 'fresh-db');
    const typo = path.join(tmp.dir, 'phtos');
    const r = visor(['--db', fresh, 'index', typo, photos]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^visor: no such file or folder: ${typo} .*visor remove`));
    expect(fs.existsSync(fresh)).toBe(false);
  });

  it('says a catalogue row names no file, not that the file vanished', () => {
    const cat = path.join(tmp.dir, 'typo.csv');
    fs.writeFileSync(cat, 'file,title\nphotos/no-such.jpg,Lost\n');
    const r = visor(['--db', db, 'index', cat, '--json', '--progress', 'none']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).skipped).toEqual([{ path: path.join(tmp.dir, 'photos', 'no-such.jpg'), reason: 'listed in the catalogue but no such file' }]);
  });

  it('shows short ids in the results table, and --like and tags --id take them', () => {
    const table = visor(['--db', db, 'search', '--image', files[2]!, '-k', '2']);
    expect(table.code).toBe(0);
    const row = table.stdout.split('\n').find((l) => l.startsWith('1 '))!;
    const short = /\b([0-9a-f]{12})\b/.exec(row)![1]!;
    const full = JSON.parse(visor(['--db', db, 'search', '--image', files[2]!, '-k', '1', '--json']).stdout).results[0].id as string;
    expect(full.startsWith(short)).toBe(true);
    const like = JSON.parse(visor(['--db', db, 'search', '--like', `${short}…`, '-k', '1', '--json']).stdout);
    expect(like.query.like).toEqual([full]);
    expect(like.results[0].id).not.toBe(full); // the liked item itself is left out
    const tags = visor(['--db', db, 'tags', '--id', short.toUpperCase()]);
    expect(tags.code).toBe(0);
    expect(tags.stdout).toMatch(new RegExp(`^${full}: \\S`));
    const unknown = visor(['--db', db, 'search', '--like', '0123456789ab']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no item with id 0123456789ab/);
  });

  it('an empty folder and an empty index are explained', () => {
    const empty = path.join(tmp.dir, 'empty');
    fs.mkdirSync(empty);
    fs.writeFileSync(path.join(empty, 'notes.txt'), 'no images here\n');
    const emptyDb = path.join(tmp.dir, 'empty-db');
    const index = visor(['--db', emptyDb, 'index', empty, '--progress', 'none']);
    expect(index.code).toBe(0);
    expect(index.stdout).toContain('No image files found (1 other file: --all-files tries them)');
    const search = visor(['--db', emptyDb, 'search', 'dog']);
    expect(search.code).toBe(0);
    expect(search.stdout).toMatch(/^No results: the index at .*empty-db is empty; add images with 'visor index <folder>'/);
  });

  it('--space naming a space the index lacks says how to add it', () => {
    const r = visor(['--db', db, 'search', '--image', files[0]!, '--space', 'clip-vit-b32']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has no embedding space "clip-vit-b32" \(it has none\); add one with 'visor index <folder> --space clip-vit-b32'/);
  });

  it('a folder given as a query image is called a folder', () => {
    const search = visor(['--db', db, 'search', '--image', photos]);
    expect(search.code).toBe(2);
    expect(search.stderr.trim()).toBe(`visor: cannot read query image ${photos}: it is a folder`);
    expect(visor(['tags', photos]).stderr.trim()).toBe(`visor: ${photos}: it is a folder`);
  });

  it('stops quietly when the reader of its output goes away (| head)', () => {
    const many = path.join(tmp.dir, 'many');
    fs.mkdirSync(many);
    // 2,000 empty files: a --json summary listing each as skipped, far more than a pipe holds.
    for (let i = 0; i < 2000; i++) fs.writeFileSync(path.join(many, `empty-${i}.jpg`), '');
    const args = [CLI, '--db', path.join(tmp.dir, 'many-db'), 'index', many, '--json', '--progress', 'none'].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('bash', ['-c', `'${process.execPath}' ${args} | head -c 10 >/dev/null; exit \${PIPESTATUS[0]}`], {
      cwd: ROOT,
      env: process.env,
      encoding: 'utf8',
    });
    const [code, stderr] = [r.status, r.stderr];
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
  });

  it('a query whose signals --weights switched off says so, not that nothing knows the words', () => {
    const r = visor(['--db', db, 'search', 'dog', '--weights', 'concepts=0,keywords=0', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      understood: false,
      results: [],
      message: 'nothing answers "dog": keywords, concepts are switched off (weight 0), and no other signal understood it',
    });
  });

  it('stats shows the text model the index was given', () => {
    const captions = path.join(tmp.dir, 'captions.csv');
    fs.writeFileSync(
      captions,
      ['image,caption', ...files.flatMap((f, i) => [`${path.basename(f)},a photo number ${i}`, `${path.basename(f)},picture ${i} of something`])].join('\n'),
    );
    const model = path.join(tmp.dir, 'tiny.joint');
    const train = visorLab(['train', 'joint', '--captions', captions, '--images', photos, '--out', model, '--epochs', '1', '--progress', 'none', '--json']);
    expect(train.code, train.stderr).toBe(0);
    const { sha256 } = JSON.parse(train.stdout);
    const textDb = path.join(tmp.dir, 'text-db');
    expect(visor(['--db', textDb, 'index', photos, '--text-model', model, '--progress', 'none']).code).toBe(0);
    expect(JSON.parse(visor(['--db', textDb, 'stats', '--json']).stdout).textModel).toEqual({ file: model, sha256 });
    expect(visor(['--db', textDb, 'stats']).stdout).toMatch(new RegExp(`^text model\\s+${model} \\(sha256 ${sha256.slice(0, 12)}…\\)$`, 'm'));
    expect(JSON.parse(visor(['--db', db, 'stats', '--json']).stdout).textModel).toBeUndefined();
  });

  it('a small --max-pixels limit is reported in pixels, not as "0 MP"', () => {
    const r = visor(['--db', path.join(tmp.dir, 'small-db'), 'index', files[0]!, '--max-pixels', '1000', '--json', '--progress', 'none']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).skipped).toEqual([{ path: files[0], reason: 'image too large (224×224 = 50176 pixels, limit 1000 pixels)' }]);
  });

  it('reads a semicolon-separated CSV, and names the columns it found when none holds the image path', () => {
    const semi = path.join(tmp.dir, 'semicolons.csv');
    fs.writeFileSync(semi, `file;title;price\nphotos/${path.basename(files[1]!)};Boy;12\n`);
    const semiDb = path.join(tmp.dir, 'semi-db');
    const r = visor(['--db', semiDb, 'index', semi, '--json', '--progress', 'none']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ indexed: 1, skipped: [] });
    expect(JSON.parse(visor(['--db', semiDb, 'stats', '--json']).stdout).metaColumns).toEqual({ title: 'string', price: 'number' });
    const noPath = path.join(tmp.dir, 'no-path.csv');
    fs.writeFileSync(noPath, 'name,title\nx.jpg,X\n');
    const bad = visor(['--db', semiDb, 'index', noPath]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no-path\.csv: no image path column \(columns found: name, title\); name one of: path, file/);
  });

  it('serve on a port in use says so and how to pick another', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const r = spawnSync(process.execPath, [CLI, '--db', db, 'serve', '--port', String(port), '--json'], {
        cwd: ROOT,
        env: process.env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status).toBe(1);
      expect(JSON.parse(r.stdout).error).toEqual({
        code: 'PORT_IN_USE',
        message: `port ${port} on 127.0.0.1 is in use (another visor serve?); choose another with --port, or --port 0 for any free one`,
      });
    } finally {
      busy.close();
    }
  });

  it('categorize --column naming no catalogue column is refused, not ignored', () => {
    const r = visor(['--db', db, 'categorize', '--zero-shot', 'dog,person', '--column', 'categry']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('visor: no catalogue column "categry" in the index (columns: title, price)');
  });

  it('categorize --model with a missing file says how to make one', () => {
    const missing = path.join(tmp.dir, 'no-such-classifier.json');
    const r = visor(['--db', db, 'categorize', '--model', missing]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`visor: cannot read classifier ${missing}: no such file; make one with 'visor-lab train classify'`);
  });
});
