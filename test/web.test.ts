import fs from 'node:fs';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../src/collection.js';
import { contentId } from '../src/ingest/read-image.js';
import { startServer, type RunningServer } from '../src/server/start.js';
import { FLICKR_TEST_IMAGES, flickrTestImages, tempDir } from './fixtures.js';
import { allCaptions, firstCaptions, otherCaptions, writeCaptionCatalogue } from './server-helpers.js';

// Browser globals, for the functions Playwright runs inside the page (this file runs in Node).
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const DataTransfer: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const ClipboardEvent: any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Debian's chromium (`apt-get install chromium`; .ci/run installs it). */
const CHROMIUM = process.env.VISOR_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(import.meta.dirname, '..', 'test-artifacts');
/** A dog photo of the test split (README's example query). */
const DOG_PHOTO = path.join(FLICKR_TEST_IMAGES, '909808296_23c427022d.jpg');

const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  console.warn(`SKIPPED: the browser tests need Debian's chromium at ${CHROMIUM} (apt-get install chromium, or set VISOR_CHROMIUM)`);
}

describe.skipIf(!HAVE_CHROMIUM)('search page in a real browser (1,000 Flickr8k test images)', () => {
  const tmp = tempDir('visor-web-');
  let server: RunningServer;
  let browser: BrowserContext;
  let page: Page;
  const errors: string[] = [];
  /** File name of each indexed image, by item id (content hash). */
  const fileOfId = new Map<string, string>();
  const DOGGY = /\b(dogs?|puppy|puppies)\b/i;
  /** Whether an item is a dog photo by the annotators' captions the index never saw. */
  const judgedDog = (others: Map<string, string[]>, id: string) => (others.get(fileOfId.get(id) ?? '') ?? []).some((c) => DOGGY.test(c));

  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `web-${name}.png`), fullPage: false });
  const titles = () => page.locator('.card .title').allTextContents();
  /** Waits until a search has been answered and rendered (the grid is no longer marked busy). */
  const settled = () => page.waitForFunction(() => !document.querySelector('#results.busy'));

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    // A catalogue of the 1,000 images with one Flickr caption each as the title: the words the
    // text search finds today (visual-concept text search comes with its own tests).
    const catalogue = path.join(tmp.dir, 'captions.csv');
    const images = flickrTestImages(1000);
    writeCaptionCatalogue(catalogue, images);
    for (const f of images) fileOfId.set(contentId(fs.readFileSync(f)), path.basename(f));
    const c = await Collection.open({ db: path.join(tmp.dir, 'db'), create: true });
    const summary = await c.index([catalogue]);
    expect(summary.totalItems).toBe(1000);
    await c.close();
    server = await startServer({ db: path.join(tmp.dir, 'db'), host: '127.0.0.1', port: 0, warmUp: true });
    // A fresh profile in the test's temporary folder: no state from earlier runs or other users.
    browser = await chromium.launchPersistentContext(path.join(tmp.dir, 'chromium-profile'), {
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
        '--disable-quic',
      ],
      viewport: { width: 1280, height: 900 },
    });
    page = await browser.newPage();
    page.setDefaultTimeout(15_000); // a failing step fails fast; a passing one takes well under a second
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    // Nothing outside the server under test may be fetched: no CDN, no fonts, nothing.
    await page.route(/.*/, (route) =>
      route.request().url().startsWith(server.url) || route.request().url().startsWith('blob:') ? route.continue() : route.abort(),
    );
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
    await page.goto(`${server.url}/`);
    // (expect.poll belongs to tests, not hooks.)
    await page.waitForFunction(() => document.querySelector('#collection')?.textContent === '1,000 images');
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    tmp.cleanup();
  });

  it('types a query, presses Enter, and shows results whose captions have the word', async () => {
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('q'); // the search box has focus
    await page.keyboard.type('dog');
    await page.keyboard.press('Enter');
    await page.locator('.card').first().waitFor();
    await settled();
    const top = (await titles()).slice(0, 10);
    expect(top).toHaveLength(10);
    for (const t of top) expect(t.toLowerCase()).toMatch(/\bdogs?\b/);
    // Independent judges: the other four annotators' captions, which the index never saw.
    const others = otherCaptions();
    const ids = await page.locator('.card').evaluateAll((cards) => cards.slice(0, 10).map((c) => c.dataset.id));
    const judged = ids.filter((id) => judgedDog(others, id));
    expect(judged.length).toBeGreaterThanOrEqual(9);
    const why = await page.locator('.card').first().locator('.why li').allTextContents();
    expect(why).toContain('words: dog');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('.card img')].slice(0, 10).every((i: { complete: boolean; naturalWidth: number }) => i.complete && i.naturalWidth > 0),
    );
    await shot('1-text-dog');
  });

  it('drops an image and finds that image first, with a score of about 1', async () => {
    await page.fill('#q', '');
    const bytes = fs.readFileSync(DOG_PHOTO);
    const transfer = await page.evaluateHandle(
      ({ b64, name }) => {
        const dt = new DataTransfer();
        const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        dt.items.add(new File([bin], name, { type: 'image/jpeg' }));
        return dt;
      },
      { b64: bytes.toString('base64'), name: path.basename(DOG_PHOTO) },
    );
    await page.dispatchEvent('#query-box', 'dragenter', { dataTransfer: transfer });
    await page.dispatchEvent('#query-box', 'drop', { dataTransfer: transfer });
    await expect.poll(() => page.locator('#query-images img').count()).toBe(1);
    await page.waitForFunction((id) => document.querySelector('.card')?.dataset.id === id, contentId(bytes));
    await settled();
    const first = page.locator('.card').first();
    expect(Number(await first.locator('.score').textContent())).toBeCloseTo(1, 2);
    expect(await first.locator('.why li').first().textContent()).toBe('looks alike 1.00');
    // The neighbours are mostly dogs too, by all five captions (none of which a visual search reads).
    expect(firstCaptions().get(path.basename(DOG_PHOTO))).toMatch(/dog/i);
    const ids = await page.locator('.card').evaluateAll((cards) => cards.slice(1, 11).map((c) => c.dataset.id));
    expect(ids).toHaveLength(10);
    expect(ids.filter((id) => judgedDog(allCaptions(), id)).length).toBeGreaterThanOrEqual(6);
    await page.waitForFunction(() =>
      [...document.querySelectorAll('.card img')].slice(0, 10).every((i: { complete: boolean; naturalWidth: number }) => i.complete && i.naturalWidth > 0),
    );
    await shot('2-image-drop');
  });

  it('composes the image with words, and takes "more like this" as feedback chips', async () => {
    await page.fill('#q', 'grass');
    await page.keyboard.press('Enter');
    await settled();
    expect(await page.locator('#summary').textContent()).toMatch(/fused/);
    const before = await page.locator('.card').evaluateAll((cards) => cards.map((c) => c.dataset.id));
    const pick = page.locator('.card').nth(2);
    const pickedId = await pick.evaluate((c) => c.dataset.id);
    await pick.locator('.more').click();
    await expect.poll(() => page.locator('#feedback-chips .chip.like').count()).toBe(1);
    await settled();
    const after = await page.locator('.card').evaluateAll((cards) => cards.map((c) => c.dataset.id));
    expect(after).not.toContain(pickedId); // a liked item is the query now, not a result
    expect(after).not.toEqual(before);
    // Focus moves to the results, so a keyboard user continues from there.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('results-heading');
    await page.locator('.card').nth(4).locator('.less').click();
    await expect.poll(() => page.locator('#feedback-chips .chip.unlike').count()).toBe(1);
    await settled();
    await page.waitForFunction(() =>
      [...document.querySelectorAll('.card img, .chip img')]
        .slice(0, 8)
        .every((i: { complete: boolean; naturalWidth: number }) => i.complete && i.naturalWidth > 0),
    );
    await shot('3-composed-feedback');
    // Removing a chip by keyboard.
    await page.locator('#feedback-chips .chip.unlike button').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#feedback-chips .chip').count()).toBe(1);
  });

  it('shows the engine message when a query is not understood', async () => {
    await page.locator('#clear-feedback').click();
    await page.locator('#query-images button').click();
    await page.fill('#q', 'qwxzv');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#notice').textContent()).toMatch(/nothing in this collection matches "qwxzv"/);
    expect(await page.locator('.card').count()).toBe(0);
    await shot('4-not-understood');
  });

  it('filters on catalogue fields', async () => {
    await page.locator('#filters summary').click();
    await page.locator('#add-filter').click();
    await page.locator('#filter-rows select').nth(1).selectOption('contains');
    await page.locator('#filter-rows input').fill('beach');
    await page.fill('#q', 'dog');
    await page.keyboard.press('Enter');
    await settled();
    const found = await titles();
    expect(found.length).toBeGreaterThanOrEqual(10);
    for (const t of found) expect(t.toLowerCase()).toMatch(/beach/); // the filter holds for every result
    // Dogs first, by the captions the index never saw (words and visual concepts both rank).
    const ids = await page.locator('.card').evaluateAll((cards) => cards.slice(0, 8).map((c) => c.dataset.id));
    expect(ids.filter((id) => judgedDog(otherCaptions(), id)).length).toBeGreaterThanOrEqual(7);
    expect(await page.locator('#filter-count').textContent()).toBe('1');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('.card img')].slice(0, 4).every((i: { complete: boolean; naturalWidth: number }) => i.complete && i.naturalWidth > 0),
    );
    await shot('5-filter');
    await page.locator('#filter-rows button').click(); // remove the filter again
    await expect.poll(() => page.locator('#filter-count').textContent()).toBe('');
  });

  it('picks an image with the camera button (the file chooser), and takes a pasted one', async () => {
    await page.fill('#q', '');
    const file = flickrTestImages(10)[9]!;
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.locator('#pick').click()]);
    await chooser.setFiles(file);
    await page.waitForFunction((id) => document.querySelector('.card')?.dataset.id === id, contentId(fs.readFileSync(file)));
    await settled();
    await page.locator('#query-images button').click();
    await expect.poll(() => page.locator('#query-images img').count()).toBe(0);

    const pasted = flickrTestImages(11)[10]!;
    await page.evaluate(
      ({ b64 }) => {
        const dt = new DataTransfer();
        dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'image.png', { type: 'image/jpeg' }));
        document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true }));
      },
      { b64: fs.readFileSync(pasted).toString('base64') },
    );
    await page.waitForFunction((id) => document.querySelector('.card')?.dataset.id === id, contentId(fs.readFileSync(pasted)));
    await settled();
    await page.locator('#query-images button').click(); // back to words only
    await expect.poll(() => page.locator('#query-images img').count()).toBe(0);
  });

  it('pages, and fits a phone-sized screen', async () => {
    await page.fill('#q', 'dog');
    await page.keyboard.press('Enter');
    await settled();
    const first = await page
      .locator('.card')
      .first()
      .evaluate((c) => c.dataset.id);
    await page.locator('#next').click();
    await settled();
    expect(await page.locator('#page-label').textContent()).toBe('Page 2');
    expect(await page.locator('.card .rank').first().textContent()).toBe('#25');
    expect(
      await page
        .locator('.card')
        .first()
        .evaluate((c) => c.dataset.id),
    ).not.toBe(first);
    await page.locator('#prev').click();
    await settled();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.evaluate(() => document.scrollingElement.scrollTo(0, 0));
    // Nothing wider than the screen: no sideways scrolling on a phone.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.waitForFunction(() =>
      [...document.querySelectorAll('.card img')].slice(0, 4).every((i: { complete: boolean; naturalWidth: number }) => i.complete && i.naturalWidth > 0),
    );
    await shot('6-phone');
    expect(errors).toEqual([]);
  });
});
