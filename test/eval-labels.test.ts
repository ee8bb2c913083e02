import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flickrTestImages, tempDir, visor } from './fixtures.js';

declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any

const CHROMIUM = process.env.VISOR_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(import.meta.dirname, '..', 'test-artifacts');

/**
 * `visor eval labels` on a small labelled catalogue with the bad input real catalogues have: a
 * label with a single image, a row with no label, a missing file and a corrupt one.
 */
describe('visor eval labels', () => {
  const tmp = tempDir('visor-eval-labels-');
  const catalogue = path.join(tmp.dir, 'labels.csv');

  beforeAll(() => {
    const photos = flickrTestImages(8);
    const corrupt = path.join(tmp.dir, 'corrupt.jpg');
    fs.writeFileSync(corrupt, fs.readFileSync(photos[0]!).subarray(0, 400));
    const rows = [
      ...photos.slice(0, 3).map((p) => `${p},beach`),
      ...photos.slice(3, 6).map((p) => `${p},dog`),
      `${photos[6]},lonely`,
      `${photos[7]},`,
      `${path.join(tmp.dir, 'missing.jpg')},dog`,
      `${corrupt},beach`,
    ];
    fs.writeFileSync(catalogue, `path,kind\n${rows.join('\n')}\n`);
  });

  afterAll(() => tmp.cleanup());

  it('measures what can be measured and says what was left out and why', () => {
    const r = visor(['--json', 'eval', 'labels', catalogue, '--label', 'kind', '--progress', 'none']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.queries).toBe(6); // beach ×3, dog ×3; "lonely" has nothing relevant to it
    expect(json.gallery).toBe(6);
    expect(json.labels).toBe(3);
    expect(json.metrics.mapAll).toBeGreaterThan(0);
    expect(json.metrics.mapAll).toBeLessThanOrEqual(1);
    expect(json.perLabel.map((l: { label: string }) => l.label).sort()).toEqual(['beach', 'dog']);
    expect(json.perLabel[0].map).toBeLessThanOrEqual(json.perLabel[1].map); // worst first
    expect(json.leftOut.unlabelled).toBe(1);
    expect(json.leftOut.singleImageLabels).toEqual(['lonely']);
    const notIndexed = json.leftOut.notIndexed.map((p: { path: string; reason: string }) => [path.basename(p.path), p.reason]);
    expect(notIndexed.map((x: string[]) => x[0]).sort()).toEqual(['corrupt.jpg', 'missing.jpg']);
    expect(notIndexed.find((x: string[]) => x[0] === 'corrupt.jpg')[1]).toMatch(/truncated|corrupt/);

    const text = visor(['eval', 'labels', catalogue, '--label', 'kind', '--progress', 'none']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^mAP@1000 +\d\.\d{4}$/m);
    expect(text.stdout).toMatch(/^P@10 +\d\.\d{4}$/m);
    expect(text.stderr).toMatch(/1 label with a single image .*: lonely/);
    expect(text.stderr).toMatch(/missing\.jpg: left out/);
    expect(text.stderr).not.toMatch(/INTERNAL/);
  }, 120_000);

  it('a catalogue without the label column: a clear message naming the columns, not INTERNAL', () => {
    const r = visor(['eval', 'labels', catalogue, '--label', 'category', '--progress', 'none']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no column "category" to take labels from \(columns: kind\)/);
    expect(r.stderr).not.toMatch(/INTERNAL/);
  });

  it('labels with one image each: no figures, a message saying why', () => {
    const single = path.join(tmp.dir, 'single.csv');
    fs.writeFileSync(
      single,
      `path,kind\n${flickrTestImages(3)
        .map((p, i) => `${p},k${i}`)
        .join('\n')}\n`,
    );
    const r = visor(['eval', 'labels', single, '--label', 'kind', '--progress', 'none']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/nothing to measure: no label has two images/);
    expect(r.stderr).toMatch(/3 labels with a single image/);
  }, 120_000);

  it.skipIf(!fs.existsSync(CHROMIUM))(
    '--report writes a page Chromium shows with the curve and the image strips',
    async () => {
      const report = path.join(tmp.dir, 'out', 'report.html');
      const r = visor(['eval', 'labels', catalogue, '--label', 'kind', '--report', report, '--progress', 'none']);
      expect(r.code, r.stderr).toBe(0);
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
      try {
        const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(`file://${report}`);
        expect(await page.locator('#pr-curve polyline').isVisible()).toBe(true);
        expect(await page.locator('#per-label .bar').count()).toBe(2);
        // The classifier's confusion matrix: a header row and one row per label it could train on.
        expect(await page.locator('#confusion').isVisible()).toBe(true);
        expect(await page.locator('#confusion tr').count()).toBe(3);
        const strips = page.locator('#worst .worst-query');
        expect(await strips.count()).toBe(6);
        expect(await strips.first().locator('img').first().isVisible()).toBe(true);
        // Every embedded image decoded (naturalWidth > 0): the page stands alone.
        expect(await page.evaluate(() => [...document.images].every((i: { naturalWidth: number }) => i.naturalWidth > 0))).toBe(true);
        fs.mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: path.join(ARTIFACTS, 'eval-labels-report.png'), fullPage: true });
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    },
    120_000,
  );
});
