import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bombPng, CLI, flickrTestImages, ROOT, tempDir, visor } from './fixtures.js';

/** A valid JPEG start (SOI + JFIF APP0) followed by deterministic noise. */
function corruptJpeg(): Buffer {
  const head = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
  let s = 12345;
  const noise = Buffer.alloc(8192);
  for (let i = 0; i < noise.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    noise[i] = s >>> 24;
  }
  return Buffer.concat([head, noise]);
}

interface Skip {
  path: string;
  reason: string;
}

describe('bad files in a folder (CLI)', () => {
  const tmp = tempDir('visor-bad-');
  const photos = path.join(tmp.dir, 'photos');
  const db = path.join(tmp.dir, 'db');
  const asRoot = process.getuid?.() === 0;
  /** Bad file path → the reason its skip must give. */
  const expected = new Map<string, RegExp>();
  let goodCount = 0;

  beforeAll(() => {
    fs.mkdirSync(photos);
    const sources = flickrTestImages(14);
    for (const f of sources.slice(0, 10)) fs.copyFileSync(f, path.join(photos, path.basename(f)));
    goodCount = 10;

    const corrupt = path.join(photos, 'corrupt.jpg');
    fs.writeFileSync(corrupt, corruptJpeg());
    expected.set(corrupt, /corrupt|truncated|not an image/);

    const truncated = path.join(photos, 'truncated.jpg');
    const whole = fs.readFileSync(sources[10]!);
    fs.writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    expected.set(truncated, /truncated/);

    const empty = path.join(photos, 'empty.jpg');
    fs.writeFileSync(empty, '');
    expected.set(empty, /empty/);

    const notes = path.join(photos, 'notes.jpg');
    fs.writeFileSync(notes, 'Shopping list:\n- milk\n- eggs\n'.repeat(20));
    expected.set(notes, /not an image/);

    const locked = path.join(photos, 'locked.jpg');
    fs.copyFileSync(sources[11]!, locked);
    if (asRoot) {
      // root reads a chmod 000 file anyway: here it is simply one more good image.
      goodCount++;
    } else {
      fs.chmodSync(locked, 0o000);
      expected.set(locked, /permission denied/);
    }

    const bomb = path.join(photos, 'bomb.png');
    fs.writeFileSync(bomb, bombPng());
    expected.set(bomb, /too large/);

    const gone = path.join(photos, 'gone.jpg');
    fs.symlinkSync(path.join(tmp.dir, 'no-such-file.jpg'), gone);
    expected.set(gone, /broken symbolic link/);

    const fifo = path.join(photos, 'fifo.jpg');
    execFileSync('mkfifo', [fifo]);
    expected.set(fifo, /not a regular file/);

    // A Latin-1 name (byte 0xE9): Node lists it with U+FFFD, a path that does not exist.
    fs.copyFileSync(sources[12]!, Buffer.concat([Buffer.from(path.join(photos, 'caf')), Buffer.from([0xe9]), Buffer.from('.jpg')]));
    expected.set(path.join(photos, 'caf\uFFFD.jpg'), /file name is not valid UTF-8.*rename it/);

    const loop = path.join(photos, 'loop.jpg');
    fs.symlinkSync('loop.jpg', loop);
    expected.set(loop, /too many levels of symbolic links/);
  });
  afterAll(() => {
    try {
      fs.chmodSync(path.join(photos, 'locked.jpg'), 0o644);
    } catch {
      // already gone
    }
    tmp.cleanup();
  });

  function checkSkipped(skipped: Skip[]): void {
    const byPath = new Map(skipped.map((s) => [s.path, s.reason]));
    for (const [p, re] of expected) {
      expect(byPath.has(p), `${path.basename(p)} should be skipped`).toBe(true);
      expect(byPath.get(p), `reason for ${path.basename(p)}`).toMatch(re);
    }
    expect(skipped).toHaveLength(expected.size);
  }

  it('indexes the good images, skips each bad one with a specific reason, and stores no half-written row', () => {
    const r = visor(['--db', db, 'index', photos, '--json', '--progress', 'none']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { indexed: number; skipped: Skip[]; totalItems: number; interrupted: boolean };
    expect(summary.interrupted).toBe(false);
    expect(summary.indexed).toBe(goodCount);
    expect(summary.totalItems).toBe(goodCount);
    checkSkipped(summary.skipped);

    const stats = visor(['--db', db, 'stats', '--json']);
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ items: goodCount, files: goodCount });
  });

  it('re-running indexes nothing new and reports the same bad files again', () => {
    const r = visor(['--db', db, 'index', photos, '--json', '--progress', 'none']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { indexed: number; unchanged: number; skipped: Skip[]; totalItems: number };
    expect(summary.indexed).toBe(0);
    expect(summary.unchanged).toBe(goodCount);
    expect(summary.totalItems).toBe(goodCount);
    checkSkipped(summary.skipped);
    expect(JSON.parse(visor(['--db', db, 'stats', '--json']).stdout)).toMatchObject({ items: goodCount, files: goodCount });
  });
});

/**
 * Runs the CLI as a user a chmod 000 folder stops: this one, or `nobody` when the tests run as
 * root (whom permissions do not stop). Null when neither is possible: root without setpriv, or
 * a checkout `nobody` cannot read (a clone inside a private folder such as a mktemp dir).
 */
function unprivilegedVisor(): ((args: string[], home: string) => { code: number; stdout: string; stderr: string }) | null {
  if (process.getuid?.() !== 0) return (args) => visor(args);
  if (spawnSync('setpriv', ['--version']).status !== 0) return null;
  const asNobody = (args: string[], home: string) => {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, HOME: home },
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  return asNobody(['--version'], '/').code === 0 ? asNobody : null;
}

describe('a folder that cannot be read this time', () => {
  const run = unprivilegedVisor();
  const tmp = tempDir('visor-unreadable-');
  const photos = path.join(tmp.dir, 'photos');
  const sub = path.join(photos, 'sub');
  const db = path.join(tmp.dir, 'db');
  afterAll(() => {
    if (fs.existsSync(sub)) fs.chmodSync(sub, 0o755);
    tmp.cleanup();
  });

  it.skipIf(!run)('keeps the images it held in the index: unreadable is not deleted', () => {
    const sources = flickrTestImages(4);
    fs.mkdirSync(sub, { recursive: true });
    sources.forEach((f, i) => fs.copyFileSync(f, path.join(i < 2 ? photos : sub, path.basename(f))));
    // `nobody` (when run as root) must reach the folders and write the index.
    fs.chmodSync(tmp.dir, 0o777);
    const index = () => {
      const r = run!(['--db', db, 'index', photos, '--json', '--progress', 'none'], tmp.dir);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { indexed: number; unchanged: number; removed: number; skipped: Skip[]; totalItems: number };
    };
    expect(index()).toMatchObject({ indexed: 4, totalItems: 4 });

    fs.chmodSync(sub, 0o000);
    const blocked = index();
    expect(blocked).toMatchObject({ indexed: 0, removed: 0, totalItems: 4 });
    expect(blocked.skipped).toEqual([{ path: sub, reason: 'cannot read folder: permission denied' }]);

    fs.chmodSync(sub, 0o755);
    expect(index()).toMatchObject({ unchanged: 4, removed: 0, totalItems: 4, skipped: [] });
    // Gone for real is still gone.
    fs.rmSync(sub, { recursive: true });
    expect(index()).toMatchObject({ removed: 2, totalItems: 2 });
  });
});

describe('bad rows in a catalogue (CLI)', () => {
  const tmp = tempDir('visor-bad-rows-');
  afterAll(() => tmp.cleanup());

  it('indexes the good rows and skips each bad one with its reason', () => {
    const [a, b] = flickrTestImages(2).map((f) => {
      const dest = path.join(tmp.dir, path.basename(f));
      fs.copyFileSync(f, dest);
      return dest;
    });
    fs.writeFileSync(path.join(tmp.dir, 'notes.txt'), 'not an image');
    fs.mkdirSync(path.join(tmp.dir, 'folder.jpg'));
    const rows = [
      'path,title,id',
      `${path.basename(a!)},first,1`,
      `${path.basename(b!)},second,1`, // the same id twice is only data
      `${path.basename(a!)},again,2`,
      ',no path,3',
      'gone.jpg,missing,4',
      'notes.txt,text,5',
      'folder.jpg,a folder,6',
      '../../../../../../etc/hostname,outside,7',
    ];
    fs.writeFileSync(path.join(tmp.dir, 'shop.csv'), rows.join('\n'));
    const r = visor(['--db', path.join(tmp.dir, 'db'), 'index', path.join(tmp.dir, 'shop.csv'), '--json', '--progress', 'none']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { indexed: number; skipped: Skip[]; totalItems: number };
    expect(summary).toMatchObject({ indexed: 2, totalItems: 2 });
    const reasons = Object.fromEntries(summary.skipped.map((s) => [path.basename(s.path), s.reason]));
    expect(reasons).toEqual({
      [path.basename(a!)]: 'listed twice in the catalogue; first row kept',
      'shop.csv:5': 'catalogue row has no image path',
      'gone.jpg': 'listed in the catalogue but no such file',
      'notes.txt': 'not an image (unrecognised format)',
      'folder.jpg': 'not a regular file',
      hostname: expect.stringMatching(/not an image|no such file/) as string,
    });
  });
});
