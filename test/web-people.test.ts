import fs from 'node:fs';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../src/collection.js';
import { startServer, type RunningServer } from '../src/server/start.js';
import { SHARED, tempDir } from './fixtures.js';

// Browser globals, for the functions Playwright runs inside the page (this file runs in Node).
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const sessionStorage: any; // eslint-disable-line @typescript-eslint/no-explicit-any

const KEY = 'a-test-key-of-enough-length';
const CHROMIUM = process.env.VISOR_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
const LFW = path.join(SHARED, 'datasets', 'lfw-deepfunneled', 'images');
const lfw = (name: string, n: number) => path.join(LFW, name, `${name}_${String(n).padStart(4, '0')}.jpg`);

interface PersonJson {
  id: string;
  name?: string;
  faces: number;
  face: { id: string } | null;
}

describe.skipIf(!fs.existsSync(LFW))('people over HTTP and on the page', () => {
  const tmp = tempDir('visor-web-people-');
  const db = path.join(tmp.dir, 'db');
  let server: RunningServer;

  beforeAll(async () => {
    const images = path.join(tmp.dir, 'images');
    fs.mkdirSync(images, { recursive: true });
    for (const f of [lfw('George_W_Bush', 1), lfw('George_W_Bush', 2), lfw('Colin_Powell', 1), lfw('Colin_Powell', 2)]) {
      fs.copyFileSync(f, path.join(images, path.basename(f)));
    }
    const c = await Collection.open({ db, create: true });
    await c.index([images], { facts: ['faces'], workers: 1 });
    await c.close();
    server = await startServer({ db, host: '127.0.0.1', port: 0, apiKey: KEY });
  }, 180_000);

  afterAll(async () => {
    await server?.close();
    tmp.cleanup();
  });

  const call = async (p: string, init: RequestInit = {}) => {
    const r = await fetch(`${server.url}${p}`, {
      ...init,
      headers: { authorization: `Bearer ${KEY}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    });
    return {
      status: r.status,
      body: (r.headers.get('content-type') ?? '').includes('json') ? ((await r.json()) as Record<string, unknown>) : null,
      type: r.headers.get('content-type'),
    };
  };

  it('lists persons, names one, searches by person, cuts a face; documented in the OpenAPI', async () => {
    const people = (await call('/api/people')).body!.people as PersonJson[];
    expect(people.map((p) => p.faces)).toEqual([2, 2]);
    const first = people[0]!;
    const named = await call(`/api/people/${first.id}/name`, { method: 'POST', body: JSON.stringify({ name: 'First Person' }) });
    expect([named.status, (named.body as unknown as PersonJson).name], JSON.stringify(named.body)).toEqual([200, 'First Person']);
    const found = await call('/api/search', { method: 'POST', body: JSON.stringify({ persons: ['First Person'] }) });
    expect((found.body!.results as unknown[]).length).toBe(2);
    const face = await call(`/api/faces/${first.face!.id}/image`);
    expect([face.status, face.type]).toEqual([200, 'image/webp']);
    expect((await call('/api/people/nobody')).status).toBe(404);
    const api = (await call('/api/openapi.json')).body as { paths: Record<string, unknown> };
    expect(Object.keys(api.paths)).toEqual(expect.arrayContaining(['/api/people', '/api/people/{id}/name', '/api/people/merge']));
  });

  describe.skipIf(!HAVE_CHROMIUM)('in a real browser', () => {
    let browser: BrowserContext;
    let page: Page;
    const errors: string[] = [];

    beforeAll(async () => {
      browser = await chromium.launchPersistentContext(path.join(tmp.dir, 'chromium-profile'), {
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
        viewport: { width: 1280, height: 900 },
      });
      page = await browser.newPage();
      page.setDefaultTimeout(15_000);
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      // The key as the page keeps it once given (the dialog is web.test.ts's subject).
      await page.addInitScript((key: string) => sessionStorage.setItem('visor-api-key', key), KEY);
      await page.goto(`${server.url}/`);
      await page.locator('#people:not([hidden])').waitFor();
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
    });

    it('shows the persons with their faces; "Photos" shows a person\'s photos with whose face matched; naming and merging reach the server', async () => {
      await page.click('#people summary');
      const tiles = page.locator('#people-list .person');
      expect(await tiles.count()).toBe(2);
      await page.waitForFunction(() => [...document.querySelectorAll('#people-list img')].every((i: { naturalWidth: number }) => i.naturalWidth > 0));
      await tiles.nth(0).locator('.show').click();
      await page.locator('.card').first().waitFor();
      expect(await page.locator('.card').count()).toBe(2);
      expect(await page.locator('.card .why').first().textContent()).toMatch(/face of First Person/);

      await tiles.nth(1).locator('.name').fill('Second Person');
      const saved = page.waitForResponse((r) => /\/api\/people\/p\d+\/name$/.test(r.url()));
      await tiles.nth(1).locator('.name').press('Enter');
      expect((await saved).status()).toBe(200);
      const people = (await call('/api/people')).body!.people as PersonJson[];
      expect(people.map((p) => p.name).sort()).toEqual(['First Person', 'Second Person']);

      // Merging two named persons is refused with the reason; an unnamed pair would merge.
      await page.locator('#people-list .pick').nth(0).check();
      await page.locator('#people-list .pick').nth(1).check();
      await page.click('#merge-people');
      await page.locator('#notice:not([hidden])').waitFor();
      expect(await page.locator('#notice').textContent()).toMatch(/different names/);
      expect(errors.filter((e) => !/400/.test(e))).toEqual([]);
    });
  });
});
