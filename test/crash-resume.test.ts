import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../src/collection.js';
import { CLI, FLICKR_TRAIN_IMAGES, ROOT, tempDir, visor } from './fixtures.js';

const N = 500;
const ATTEMPTS = 3;

interface KillRun {
  /** The process was killed part-way (false: it finished before the kill could land). */
  killed: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** `done` of the progress event that triggered the kill. */
  doneAtKill: number | null;
  stderr: string;
}

/**
 * Runs `visor index` with JSON progress and SIGKILLs it as soon as a progress event reports
 * 0 < done < N: events come after a store commit, so at least one batch is on disk by then.
 */
function indexAndKill(db: string, dir: string): Promise<KillRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--db', db, 'index', dir, '--progress', 'json'], {
      cwd: ROOT,
      env: { ...process.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let doneAtKill: number | null = null;
    let stderr = '';
    const lines = readline.createInterface({ input: child.stderr });
    lines.on('line', (line) => {
      stderr += `${line}\n`;
      if (doneAtKill !== null) return;
      let event: { progress?: { phase?: string; done?: number; total?: number } };
      try {
        event = JSON.parse(line) as typeof event;
      } catch {
        return; // not a progress line
      }
      const done = event.progress?.done ?? 0;
      if (event.progress?.phase === 'indexing' && done > 0 && done < N) {
        doneAtKill = done;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ killed: signal === 'SIGKILL', code, signal, doneAtKill, stderr }));
  });
}

describe('crash and resume (CLI)', () => {
  const tmp = tempDir('visor-crash-');
  const photos = path.join(tmp.dir, 'photos');
  let files: string[];

  beforeAll(() => {
    fs.mkdirSync(photos);
    files = fs
      .readdirSync(FLICKR_TRAIN_IMAGES)
      .filter((f) => f.endsWith('.jpg'))
      .sort()
      .slice(0, N)
      .map((f) => {
        const dest = path.join(photos, f);
        fs.copyFileSync(path.join(FLICKR_TRAIN_IMAGES, f), dest);
        return dest;
      });
    expect(files).toHaveLength(N);
  });
  afterAll(() => tmp.cleanup());

  it('survives SIGKILL part-way through indexing and resumes to a complete, duplicate-free index', async () => {
    // The store commits every 256 images: a run can finish before the kill lands. Then retry on a fresh index.
    let db = '';
    let run: KillRun | null = null;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      db = path.join(tmp.dir, `db-${attempt}`);
      run = await indexAndKill(db, photos);
      if (run.killed) break;
      expect(run.code, run.stderr).toBe(0); // finished first: must at least have succeeded
    }
    expect(run!.killed, `no kill landed part-way in ${ATTEMPTS} attempts: commits are too coarse to test resumption`).toBe(true);
    expect(run!.doneAtKill).toBeGreaterThan(0);

    // The index is readable after the crash, and holds only whole commits.
    const after = visor(['--db', db, 'stats', '--json']);
    expect(after.code, after.stderr).toBe(0);
    const before = JSON.parse(after.stdout) as { items: number; files: number };
    expect(before.items).toBeGreaterThan(0);
    expect(before.items).toBeLessThan(N);
    expect(before.files).toBe(before.items);

    // Resume: the same command, to completion.
    const rerun = visor(['--db', db, 'index', photos, '--json', '--progress', 'none']);
    expect(rerun.code, rerun.stderr).toBe(0);
    const summary = JSON.parse(rerun.stdout) as { indexed: number; unchanged: number; duplicates: number; interrupted: boolean; totalItems: number };
    expect(summary).toMatchObject({ interrupted: false, indexed: N - before.items, unchanged: before.items, duplicates: 0, totalItems: N });

    const final = JSON.parse(visor(['--db', db, 'stats', '--json']).stdout) as { items: number; files: number };
    expect(final).toMatchObject({ items: N, files: N });

    const col = await Collection.open({ db });
    try {
      const states = await col.store.fileStates();
      expect(states).toHaveLength(N);
      const counts = new Map<string, number>();
      for (const s of states) counts.set(s.path, (counts.get(s.path) ?? 0) + 1);
      expect([...counts.keys()].sort()).toEqual([...files].sort());
      expect([...counts.values()].every((c) => c === 1)).toBe(true);
      expect(new Set(states.map((s) => s.id)).size).toBe(N);
      expect(await col.store.count()).toBe(N);
    } finally {
      await col.close();
    }
  }, 400_000);
});
