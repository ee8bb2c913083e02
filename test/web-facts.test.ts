import fs from 'node:fs';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../src/collection.js';
import type { ImageFacts } from '../src/core/facts.js';
import { contentId } from '../src/ingest/read-image.js';
import { startServer, type RunningServer } from '../src/server/start.js';
import { copyFlickrTestImages, tempDir } from './fixtures.js';

// Browser globals, for the functions Playwright runs inside the page (this file runs in Node).
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const getComputedStyle: any; // eslint-disable-line @typescript-eslint/no-explicit-any

const CHROMIUM = process.env.VISOR_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(import.meta.dirname, '..', 'test-artifacts');
const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);

/** Facts as the index stores them (the `facts` side table: ImageFacts as JSON per item id). */
async function storeFacts(db: string, rows: Array<{ id: string; facts: ImageFacts }>): Promise<void> {
  const c = await Collection.open({ db });
  await c.setFactStages(['objects', 'colours', 'text']); // facts are read for the stages switched on
  const table = await c.store.sideTable('facts', { facts: 'string' });
  await table.put(rows.map((r) => ({ id: r.id, facts: JSON.stringify(r.facts) })));
  await c.close();
}

describe('facts over HTTP and on the search page', () => {
  const tmp = tempDir('visor-web-facts-');
  const db = path.join(tmp.dir, 'db');
  let server: RunningServer;
  let ids: string[];
  /** Two people and a dog, their colours, the whole image's colours and a sign read in it. */
  const FACTS: ImageFacts = {
    stages: { objects: 'yolox-nano-coco', colours: 'lab-basic', text: 'ppocr-v4' },
    width: 224,
    height: 224,
    objects: [
      { label: 'person', score: 0.91, box: [10, 20, 80, 210], colours: [{ name: 'red', share: 0.4 }] },
      { label: 'dog', score: 0.88, box: [112, 90, 188, 156], colours: [{ name: 'brown', share: 0.6 }] },
      { label: 'person', score: 0.7, box: [130, 15, 170, 90] },
    ],
    colours: [
      { name: 'green', share: 0.45 },
      { name: 'blue', share: 0.2 },
    ],
    text: [
      { text: 'PARK', score: 0.96, box: [90, 4, 120, 16] },
      { text: 'CLOSED', score: 0.9, box: [124, 5, 160, 15] },
    ],
  };
  const NOTHING_FOUND: ImageFacts = { stages: { objects: 'yolox-nano-coco' }, width: 224, height: 224, objects: [] };

  beforeAll(async () => {
    const files = copyFlickrTestImages(6, path.join(tmp.dir, 'images'));
    ids = files.map((f) => contentId(fs.readFileSync(f)));
    const c = await Collection.open({ db, create: true });
    await c.index([path.join(tmp.dir, 'images')], { facts: [] }); // facts come from the test, not the readers
    await c.close();
    await storeFacts(db, [
      { id: ids[0]!, facts: FACTS },
      { id: ids[1]!, facts: NOTHING_FOUND },
    ]);
    server = await startServer({ db, host: '127.0.0.1', port: 0 });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    tmp.cleanup();
  });

  const get = async (p: string) => {
    const r = await fetch(`${server.url}${p}`);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  it('GET /api/items/:id/facts: the stored facts and the objects counted per class; none for an item without facts; 404 for an unknown id', async () => {
    const a = await get(`/api/items/${ids[0]}/facts`);
    expect(a.status).toBe(200);
    expect(a.body).toEqual({
      id: ids[0],
      facts: FACTS,
      counts: [
        { label: 'person', count: 2 },
        { label: 'dog', count: 1 },
      ],
    });
    expect((await get(`/api/items/${ids[1]}/facts`)).body).toEqual({ id: ids[1], facts: NOTHING_FOUND, counts: [] });
    expect((await get(`/api/items/${ids[2]}/facts`)).body).toEqual({ id: ids[2] });
    expect((await get(`/api/items/${'0'.repeat(32)}/facts`)).status).toBe(404);
    expect((await get('/api/items/..%2Fetc/facts')).status).toBe(400);
  });

  it('GET /api/facts?ids=: a page of items at once, unknown ids left out; documented in the OpenAPI', async () => {
    const r = await get(`/api/facts?ids=${ids[0]},${'f'.repeat(32)},${ids[2]}`);
    expect(r.status).toBe(200);
    expect((r.body.items as Array<{ id: string }>).map((i) => i.id)).toEqual([ids[0], ids[2]]);
    expect((await get('/api/facts?ids=not-an-id')).status).toBe(400);
    const api = (await get('/api/openapi.json')).body as { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    expect(Object.keys(api.paths)).toEqual(expect.arrayContaining(['/api/items/{id}/facts', '/api/facts']));
    expect(Object.keys(api.components.schemas)).toEqual(expect.arrayContaining(['Facts', 'ItemFacts']));
  });

  describe.skipIf(!HAVE_CHROMIUM)('in a real browser', () => {
    let browser: BrowserContext;
    let page: Page;
    const errors: string[] = [];

    beforeAll(async () => {
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      browser = await chromium.launchPersistentContext(path.join(tmp.dir, 'chromium-profile'), {
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
        viewport: { width: 1280, height: 900 },
      });
      page = await browser.newPage();
      page.setDefaultTimeout(15_000);
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(`${server.url}/`);
      await page.waitForFunction(() => document.querySelector('#collection')?.textContent === '6 images');
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
    });

    it("lists a result's objects with counts, its colours as named swatches and the text read; hovering it draws the boxes", async () => {
      await page.fill('#q', 'dog');
      await page.keyboard.press('Enter');
      const card = page.locator(`.card[data-id="${ids[0]}"]`);
      await card.locator('.facts:not([hidden])').waitFor();
      expect(await card.locator('.facts dt').allTextContents()).toEqual(['Objects', 'Colours', 'Text']);
      expect(await card.locator('.facts .objects').textContent()).toBe('person ×2, dog ×1');
      expect(await card.locator('.swatches li').allTextContents()).toEqual(['green', 'blue']);
      expect(await card.locator('.swatches .swatch').evaluateAll((s) => s.map((x) => getComputedStyle(x).backgroundColor))).toEqual([
        'rgb(47, 158, 68)',
        'rgb(28, 100, 242)',
      ]);
      expect(await card.locator('.facts .read').textContent()).toBe('“PARK” “CLOSED”');
      // The item whose detector found nothing says so; one without facts shows no panel.
      expect(await page.locator(`.card[data-id="${ids[1]}"] .facts .objects`).textContent()).toBe('none found');
      expect(await page.locator(`.card[data-id="${ids[2]}"] .facts`).isHidden()).toBe(true);

      // Boxes: drawn over the thumbnail, hidden until the card is hovered.
      const boxes = card.locator('.thumb svg.boxes');
      await page.mouse.move(5, 5);
      await page.locator('#q').blur();
      expect(await boxes.isVisible()).toBe(false);
      await card.hover();
      await expect.poll(() => boxes.isVisible()).toBe(true);
      expect(await boxes.locator('rect').count()).toBe(3);
      expect(await boxes.locator('text').allTextContents()).toEqual(['person · red', 'dog · brown', 'person']);
      // The dog's box lies where the dog is in the thumbnail, which shows the square image cropped
      // to 4:3 (object-fit: cover), as the boxes' "slice" crops their frame.
      const img = (await card.locator('.thumb img').boundingBox())!;
      const dog = (await boxes.locator('rect').nth(1).boundingBox())!;
      const scale = img.width / 224;
      const cropTop = (224 * scale - img.height) / 2;
      expect(Math.abs(dog.x - img.x - 112 * scale)).toBeLessThan(3);
      expect(Math.abs(dog.width - 76 * scale)).toBeLessThan(4);
      expect(Math.abs(dog.y - img.y - (90 * scale - cropTop))).toBeLessThan(3);
      await page.screenshot({ path: path.join(ARTIFACTS, 'web-facts-hover.png') });
      expect(errors).toEqual([]);
    });
  });
});
