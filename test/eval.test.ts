import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LAB_CLI, ROOT, tempDir } from './fixtures.js';

describe('visor-lab eval cifar10', () => {
  const tmp = tempDir('visor-eval-');
  afterAll(() => tmp.cleanup());

  it('runs the protocol through the CLI on a class-balanced subset and reports real figures', () => {
    const out = path.join(tmp.dir, 'report.json');
    const r = spawnSync(process.execPath, [LAB_CLI, 'eval', 'cifar10', '--limit', '500', '--json', '--out', out, '--progress', 'none'], {
      cwd: ROOT,
      env: process.env,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(JSON.parse(fs.readFileSync(out, 'utf8'))).toEqual(report);
    expect(report.queries).toBe(500);
    expect(report.gallery).toBe(499);
    // Chance level is 0.1 (ten balanced classes); the pooled features do far better.
    expect(report.metrics.precisionAt10).toBeGreaterThan(0.3);
    expect(report.metrics.mapAll).toBeGreaterThan(0.2);
    expect(report.metrics.mapAt1000).toBeCloseTo(report.metrics.mapAll, 6); // 499 < 1000: same ranking depth
    expect(report.metrics.recallAt1).toBeGreaterThan(report.metrics.precisionAt10 - 0.2);
    expect(report.precisionRecall.recall).toHaveLength(11);
    expect(report.precisionRecall.precision[0]).toBeGreaterThanOrEqual(report.precisionRecall.precision[10]);
    expect(report.seconds.total).toBeGreaterThan(0);
  });
});
