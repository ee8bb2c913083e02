import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crawl, type CrawlResult } from '../src/ingest/crawl.js';
import { tempDir } from './fixtures.js';

// Root can read a chmod 000 folder, so 'permission denied' is only observable as another user.
const IS_ROOT = process.getuid?.() === 0;

let dir: string;
let cleanup: () => void;
let root: string;
const p = (...parts: string[]) => path.join(root, ...parts);

/** Paths relative to the tree's root, in the order the crawl listed them. */
const rel = (r: CrawlResult) => r.files.map((f) => path.relative(root, f.path));
const problems = (r: CrawlResult) => r.problems.map((x) => ({ path: path.relative(root, x.path), reason: x.reason }));

beforeAll(async () => {
  ({ dir, cleanup } = tempDir('visor-crawl-'));
  root = path.join(dir, 'photos');
  const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#c03030' } })
    .jpeg()
    .toBuffer();
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#30c030' } })
    .png()
    .toBuffer();
  const write = (file: string, bytes: Buffer | string) => {
    fs.mkdirSync(path.dirname(p(file)), { recursive: true });
    fs.writeFileSync(p(file), bytes);
  };
  write('top.jpg', jpeg);
  write('notes.txt', 'not an image\n');
  write('.secret.jpg', jpeg);
  write('.cache/x.jpg', jpeg);
  write('nested/b.webp', await sharp(png).webp().toBuffer());
  write('nested/deeper/c.png', png);
  write('a/inner.gif', await sharp(png).gif().toBuffer());
  fs.symlinkSync('..', p('a', 'loop')); // a/loop -> the root again
  fs.symlinkSync(path.join('nested', 'b.webp'), p('link.jpg')); // a link to an image
  fs.symlinkSync('missing.jpg', p('dead.jpg')); // a broken link
  execFileSync('mkfifo', [p('pipe.jpg')]); // opening it would block until a writer comes
  write('locked/inside.jpg', jpeg);
  fs.chmodSync(p('locked'), 0o000);
  // Sorting within one folder: code-unit order, upper case first.
  write('sorting/b.jpg', jpeg);
  write('sorting/a.png', png);
  write('sorting/C.jpg', jpeg);
  write('sorting/a0.jpg', jpeg);
});

afterAll(() => {
  if (root) fs.chmodSync(p('locked'), 0o755);
  cleanup?.();
});

describe('crawl', () => {
  it('walks nested folders, skips hidden entries and non-images, and reports bad entries', { timeout: 10_000 }, async () => {
    const r = await crawl([root]);
    const locked = IS_ROOT ? ['locked/inside.jpg'] : [];
    expect(rel(r)).toEqual([
      'a/inner.gif', // a/loop leads back to the root, which is not entered again
      'link.jpg', // listed under the link's own path
      ...locked,
      'nested/b.webp',
      'nested/deeper/c.png',
      'sorting/C.jpg',
      'sorting/a.png',
      'sorting/a0.jpg',
      'sorting/b.jpg',
      'top.jpg',
    ]);
    expect(r.ignored).toBe(1); // notes.txt
    const expected = [
      { path: 'dead.jpg', reason: 'broken symbolic link' },
      // Not a regular file. Only stat'ed, never opened: a FIFO would block the walk forever.
      { path: 'pipe.jpg', reason: 'not a regular file' },
    ];
    if (!IS_ROOT) expected.splice(1, 0, { path: 'locked', reason: 'cannot read folder: permission denied' });
    expect(problems(r)).toEqual(expected);
  });

  it('reports size and modification time of what it lists', async () => {
    const r = await crawl([root]);
    const top = r.files.find((f) => f.path === p('top.jpg'))!;
    const st = fs.statSync(p('top.jpg'));
    expect(top.size).toBe(st.size);
    expect(top.mtimeMs).toBe(st.mtimeMs);
    // The link reports the target's size, not the link's.
    const link = r.files.find((f) => f.path === p('link.jpg'))!;
    expect(link.size).toBe(fs.statSync(p('nested', 'b.webp')).size);
    expect(link.path).toBe(p('link.jpg')); // not resolved to the target
  });

  it('lists every real file once per distinct path, despite the symlink loop', async () => {
    const r = await crawl([root]);
    const paths = rel(r);
    expect(new Set(paths).size).toBe(paths.length);
    expect(paths.some((x) => x.includes('loop'))).toBe(false);
    // Walking a/ on its own does enter the loop once (the root is new then), and stops there.
    const fromA = await crawl([p('a')]);
    const viaLoop = rel(fromA);
    expect(viaLoop[0]).toBe('a/inner.gif');
    expect(viaLoop).toContain('a/loop/top.jpg');
    expect(viaLoop).not.toContain('a/loop/a/inner.gif'); // a/ itself is not entered again
    expect(viaLoop.filter((x) => x.includes('loop/a/loop'))).toEqual([]);
    expect(new Set(viaLoop).size).toBe(viaLoop.length);
  });

  it('includes hidden files and folders with hidden: true', async () => {
    const r = await crawl([root], { hidden: true });
    const paths = rel(r);
    expect(paths.slice(0, 2)).toEqual(['.cache/x.jpg', '.secret.jpg']); // '.' sorts before letters
    expect(paths).toContain('top.jpg');
    expect(paths).toHaveLength(IS_ROOT ? 12 : 11);
  });

  it('includes files of any extension with allFiles: true', async () => {
    const r = await crawl([root], { allFiles: true });
    expect(rel(r)).toContain('notes.txt');
    expect(r.ignored).toBe(0);
  });

  it('permission denied on an unreadable folder', async () => {
    const r = await crawl([p('locked')]);
    if (IS_ROOT) {
      // Running as root: chmod 000 does not stop root, so the folder is read normally.
      expect(rel(r)).toEqual(['locked/inside.jpg']);
      expect(r.problems).toEqual([]);
    } else {
      expect(r.files).toEqual([]);
      expect(problems(r)).toEqual([{ path: 'locked', reason: 'cannot read folder: permission denied' }]);
    }
  });

  it('lists a single file given as a root even without an image extension', async () => {
    const r = await crawl([p('notes.txt'), p('top.jpg')]);
    expect(rel(r)).toEqual(['notes.txt', 'top.jpg']);
    expect(r.ignored).toBe(0);
    expect(r.problems).toEqual([]);
  });

  it('resolves relative roots and reports a missing root as a problem', async () => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      const r = await crawl(['nested', 'no-such-folder']);
      expect(rel(r)).toEqual(['nested/b.webp', 'nested/deeper/c.png']);
      expect(r.problems).toHaveLength(1);
      expect(r.problems[0]).toEqual({ path: p('no-such-folder'), reason: 'no such file or folder' });
    } finally {
      process.chdir(cwd);
    }
  });

  it('reports a FIFO given as a root as not a regular file, without hanging', { timeout: 10_000 }, async () => {
    const r = await crawl([p('pipe.jpg')]);
    expect(r.files).toEqual([]);
    expect(problems(r)).toEqual([{ path: 'pipe.jpg', reason: 'not a regular file' }]);
  });

  it('lists the same tree in the same order every time', async () => {
    const a = await crawl([root], { hidden: true, allFiles: true });
    const b = await crawl([root], { hidden: true, allFiles: true });
    expect(rel(b)).toEqual(rel(a));
    expect(problems(b)).toEqual(problems(a));
  });

  it('stops when the signal is already aborted', async () => {
    const r = await crawl([root], { signal: AbortSignal.abort() });
    expect(r.files).toEqual([]);
  });
});
