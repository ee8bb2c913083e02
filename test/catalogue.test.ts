import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VisorError } from '../src/errors.js';
import { isCatalogueFile, readCatalogue } from '../src/ingest/catalogue.js';
import { FLICKR_TEST_IMAGES, flickrTestImages, tempDir } from './fixtures.js';

let dir: string;
let cleanup: () => void;

/** Writes `text` as `name` in the temp folder and returns its path. */
function file(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  return p;
}

/** Asserts `p` rejects with VisorError CATALOGUE_INVALID and returns it. */
async function invalid(p: Promise<unknown>): Promise<VisorError> {
  const e = await p.then(
    () => {
      throw new Error('expected the catalogue to be refused');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(VisorError);
  expect((e as VisorError).code).toBe('CATALOGUE_INVALID');
  return e as VisorError;
}

beforeAll(() => {
  ({ dir, cleanup } = tempDir('visor-catalogue-'));
});
afterAll(() => cleanup?.());

describe('isCatalogueFile', () => {
  it('recognises catalogue extensions, case-insensitively', () => {
    for (const f of ['a.csv', 'a.tsv', 'a.jsonl', 'a.ndjson', 'a.json', 'DATA.CSV', '/x/y/shop.Json']) {
      expect(isCatalogueFile(f)).toBe(true);
    }
    for (const f of ['a.jpg', 'a.txt', 'csv', 'a.csv.gz', 'a.xlsx', '']) expect(isCatalogueFile(f)).toBe(false);
  });
});

describe('readCatalogue: CSV', () => {
  it('resolves relative paths against its folder, sanitises and types columns', async () => {
    const csv = file(
      'shop/products.csv',
      [
        'file,Title,Category,Price',
        'img/mug.jpg,Blue mug,kitchen,12.5',
        'img/lamp.jpg,"Desk lamp, brass",lighting,40',
        '/abs/chair.jpg,Chair,,-3',
        'img/poster.jpg,,decor,',
      ].join('\n'),
    );
    const cat = await readCatalogue(csv);
    const base = path.join(dir, 'shop');
    expect(cat.file).toBe(csv);
    expect(cat.columns).toEqual({ title: 'string', category: 'string', price: 'number' });
    expect(cat.problems).toEqual([]);
    expect(cat.entries).toEqual([
      { path: path.join(base, 'img/mug.jpg'), meta: { title: 'Blue mug', category: 'kitchen', price: 12.5 } },
      { path: path.join(base, 'img/lamp.jpg'), meta: { title: 'Desk lamp, brass', category: 'lighting', price: 40 } },
      { path: '/abs/chair.jpg', meta: { title: 'Chair', category: null, price: -3 } },
      { path: path.join(base, 'img/poster.jpg'), meta: { title: null, category: 'decor', price: null } },
    ]);
    for (const e of cat.entries) expect(typeof e.meta.price === 'number' || e.meta.price === null).toBe(true);
  });

  it('resolves a relative catalogue path from the working directory', async () => {
    const csv = file('rel/cat.csv', 'file,n\nx.jpg,1\n');
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const cat = await readCatalogue(path.join('rel', 'cat.csv'));
      expect(cat.file).toBe(csv);
      expect(cat.entries[0]!.path).toBe(path.join(dir, 'rel', 'x.jpg'));
    } finally {
      process.chdir(cwd);
    }
  });

  it('takes "path" as the path column and renames reserved columns like Vector', async () => {
    const cat = await readCatalogue(file('reserved.csv', ['path,Vector,ID,Price (EUR),2nd tag', 'a.jpg,0.1;0.2,7,3,x', 'b.jpg,0.3;0.4,8,4,y'].join('\n')));
    expect(cat.columns).toEqual({ meta_vector: 'string', meta_id: 'number', price_eur: 'number', f_2nd_tag: 'string' });
    expect(cat.entries.map((e) => e.path)).toEqual([path.join(dir, 'a.jpg'), path.join(dir, 'b.jpg')]);
    expect(cat.entries[0]!.meta).toEqual({ meta_vector: '0.1;0.2', meta_id: 7, price_eur: 3, f_2nd_tag: 'x' });
  });

  it('makes a column with one non-numeric value a string column', async () => {
    const cat = await readCatalogue(file('mixed.csv', ['image,size,score', 'a.jpg,10,1', 'b.jpg,large,2', 'c.jpg,12,3'].join('\n')));
    expect(cat.columns).toEqual({ size: 'string', score: 'number' });
    expect(cat.entries.map((e) => e.meta.size)).toEqual(['10', 'large', '12']);
    expect(cat.entries.map((e) => e.meta.score)).toEqual([1, 2, 3]);
  });

  it('reports a row without a path and a duplicated path, keeping the first row', async () => {
    const csv = file('dups.csv', ['file,colour', 'a.jpg,red', ',green', 'b.jpg,blue', './a.jpg,black'].join('\n'));
    const cat = await readCatalogue(csv);
    expect(cat.entries).toEqual([
      { path: path.join(dir, 'a.jpg'), meta: { colour: 'red' } },
      { path: path.join(dir, 'b.jpg'), meta: { colour: 'blue' } },
    ]);
    expect(cat.problems).toHaveLength(2);
    // Line 3 of the file (header is line 1).
    expect(cat.problems[0]).toEqual({ path: `${csv}:3`, reason: expect.stringMatching(/no image path/) });
    expect(cat.problems[1]).toEqual({ path: path.join(dir, 'a.jpg'), reason: expect.stringMatching(/twice.*first row kept/) });
  });

  it('lists real Flickr8k images by file name', async () => {
    const names = flickrTestImages(3).map((f) => path.basename(f));
    const csv = path.join(dir, 'flickr.csv');
    const rows = names.map((n, i) => `${path.join(path.relative(dir, FLICKR_TEST_IMAGES), n)},${i}`);
    fs.writeFileSync(csv, ['filename,rank', ...rows].join('\n'));
    const cat = await readCatalogue(csv);
    expect(cat.entries.map((e) => e.path)).toEqual(flickrTestImages(3));
    for (const e of cat.entries) expect(fs.existsSync(e.path)).toBe(true);
  });

  it('refuses a catalogue without a path column, naming the accepted names', async () => {
    const csv = file('nopath.csv', 'name,price\nmug,12\n');
    const e = await invalid(readCatalogue(csv));
    expect(e.message).toContain(csv);
    expect(e.message).toMatch(/no image path column/);
    for (const name of ['path', 'file', 'filename', 'image', 'image_path']) expect(e.message).toMatch(new RegExp(`\\b${name}\\b`));
  });

  it('refuses a missing file as CATALOGUE_INVALID', async () => {
    const e = await invalid(readCatalogue(path.join(dir, 'no-such.csv')));
    expect(e.message).toMatch(/cannot read catalogue/);
  });
});

describe('readCatalogue: other formats', () => {
  const expected = () => [
    { path: path.join(dir, 'fmt', 'a.jpg'), meta: { title: 'Tab\u00a0one', price: 1.5 } },
    { path: path.join(dir, 'fmt', 'b.jpg'), meta: { title: 'Two', price: null } },
  ];

  it('reads TSV', async () => {
    const cat = await readCatalogue(file('fmt/cat.tsv', 'File\tTitle\tPrice\na.jpg\tTab\u00a0one\t1.5\nb.jpg\tTwo\t\n'));
    expect(cat.columns).toEqual({ title: 'string', price: 'number' });
    expect(cat.entries).toEqual(expected());
  });

  it('reads JSON Lines, skipping blank lines', async () => {
    const text = [
      JSON.stringify({ file: 'a.jpg', Title: 'Tab\u00a0one', Price: 1.5 }),
      '',
      JSON.stringify({ file: 'b.jpg', Title: 'Two', Price: null }),
      '',
    ].join('\r\n');
    for (const name of ['fmt/cat.jsonl', 'fmt/cat.ndjson']) {
      const cat = await readCatalogue(file(name, text));
      expect(cat.columns).toEqual({ title: 'string', price: 'number' });
      expect(cat.entries).toEqual(expected());
    }
  });

  it('reads a JSON array, with fields missing from some objects', async () => {
    const cat = await readCatalogue(
      file(
        'fmt/cat.json',
        JSON.stringify([
          { file: 'a.jpg', Title: 'Tab\u00a0one', Price: '1.5' },
          { file: 'b.jpg', Title: 'Two' },
        ]),
      ),
    );
    expect(cat.columns).toEqual({ title: 'string', price: 'number' });
    expect(cat.entries).toEqual(expected());
  });

  it('stores nested JSON values as JSON text', async () => {
    const cat = await readCatalogue(file('fmt/nested.jsonl', JSON.stringify({ image: 'n.jpg', tags: ['a', 'b'], on: true })));
    expect(cat.columns).toEqual({ tags: 'string', on: 'string' });
    expect(cat.entries[0]!.meta).toEqual({ tags: '["a","b"]', on: 'true' });
  });

  it('refuses an invalid JSON line, naming its line number', async () => {
    const jsonl = file('fmt/bad.jsonl', [JSON.stringify({ file: 'a.jpg' }), '', '{"file": "b.jpg",', '{}'].join('\n'));
    const e = await invalid(readCatalogue(jsonl));
    expect(e.message).toContain(jsonl);
    expect(e.message).toMatch(/line 3\b/);
  });

  it('refuses a JSON document that is not an array', async () => {
    const e = await invalid(readCatalogue(file('fmt/obj.json', '{"file": "a.jpg"}')));
    expect(e.message).toMatch(/array/);
  });

  it('refuses a JSON array or JSON Lines row that is not an object as CATALOGUE_INVALID', async () => {
    await invalid(readCatalogue(file('fmt/null.json', '[{"file": "a.jpg"}, null]')));
    await invalid(readCatalogue(file('fmt/null.jsonl', '{"file": "a.jpg"}\nnull\n')));
  });

  it('refuses malformed JSON as CATALOGUE_INVALID', async () => {
    await invalid(readCatalogue(file('fmt/broken.json', '[{"file": "a.jpg"')));
  });

  it('reads a JSON catalogue that starts with a byte-order mark', async () => {
    const cat = await readCatalogue(file('fmt/bom.json', '\uFEFF[{"file": "a.jpg", "Title": "x"}]'));
    expect(cat.entries).toHaveLength(1);
  });
});

describe('rows, columns and values that need care', () => {
  it('names the line where a pathless row starts, in JSON Lines and in CSV with multi-line cells', async () => {
    const jl = await readCatalogue(file('care/rows.jsonl', '{"file": "a.jpg"}\n\n{"x": 1}\n'));
    expect(jl.problems.map((p) => p.path)).toEqual([`${path.join(dir, 'care/rows.jsonl')}:3`]);
    const csv = await readCatalogue(file('care/rows.csv', 'file,note\na.jpg,"two\nlines"\n,missing path\n'));
    expect(csv.problems.map((p) => p.path)).toEqual([`${path.join(dir, 'care/rows.csv')}:4`]);
  });

  it('keeps both of two headers that sanitise to the same name', async () => {
    const cat = await readCatalogue(file('care/clash.csv', 'file,Price,price ,Title\na.jpg,1,2,x\n'));
    expect(cat.columns).toEqual({ price: 'number', price_2: 'number', title: 'string' });
    expect(cat.entries[0]!.meta).toEqual({ price: 1, price_2: 2, title: 'x' });
  });

  it('treats only decimal numbers as numbers', async () => {
    const cat = await readCatalogue(file('care/codes.csv', 'file,code,size\na.jpg,0x10,1.5e3\nb.jpg,12,-3\n'));
    expect(cat.columns).toEqual({ code: 'string', size: 'number' });
    expect(cat.entries[0]!.meta).toEqual({ code: '0x10', size: 1500 });
  });
});
