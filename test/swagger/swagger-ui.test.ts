/**
 * Swagger UI in a real browser (Debian's chromium, headless, driven by playwright-core): the
 * page loads from the local swagger-ui-dist package, shows every operation of the API, and
 * "Try it out" on GET /products gets a 200 from the running stack.
 */
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.ts';
import { apiUrl } from '../support/api.ts';

let browser: Browser;
let page: Page;
const offlineRequests: string[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  page = await browser.newPage();
  // Everything must come from the stack itself: the machine is offline, so no CDN.
  page.on('request', (request) => {
    if (!request.url().startsWith(apiUrl()) && !request.url().startsWith('data:'))
      offlineRequests.push(request.url());
  });
  await page.goto(`${apiUrl()}/swagger`);
});

afterAll(async () => {
  await browser?.close();
});

describe('Swagger UI', () => {
  it('renders the operations of every service from /openapi.json, loading nothing from outside', async () => {
    await page.locator('.opblock').first().waitFor({ timeout: 30_000 });
    const operations = await page.locator('.opblock-summary-path').allTextContents();
    const normalise = (text: string) => text.replace(/\u200b/g, '').trim();
    expect(operations.map(normalise)).toEqual(
      expect.arrayContaining([
        '/categories',
        '/categories/{id}',
        '/products',
        '/products/{id}',
        '/products/{id}/categories',
        '/inventory/{productId}',
        '/health',
      ]),
    );
    expect(await page.locator('#operations-Products-listProducts').count()).toBe(1);
    expect(await page.locator('#operations-Products-createProduct').count()).toBe(1);
    expect(offlineRequests).toEqual([]);
  });

  it('runs "Try it out" on GET /products and shows a 200 response', async () => {
    const operation = page.locator('#operations-Products-listProducts');
    await operation.locator('.opblock-summary').first().click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.getByRole('button', { name: 'Execute' }).click();
    const status = operation.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor({ timeout: 30_000 });
    expect((await status.textContent())?.trim()).toMatch(/^200/);
    const body = await operation
      .locator(
        '.live-responses-table .response-col_description .microlight, .live-responses-table .response-col_description pre',
      )
      .first()
      .textContent();
    expect(body).toContain('"items"');
  });
});
