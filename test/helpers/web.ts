import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { createUserService } from '../../src/modules/users/service.js';
import { startTestApp, type TestApp } from './harness.js';

/**
 * Browser tests: the app listens on a real port and Debian's chromium (never a downloaded
 * browser) drives it through playwright-core. One browser per test file.
 */
export const chromiumPath = process.env.FOLIO_CHROMIUM ?? '/usr/bin/chromium';
export const screenshotDir = path.resolve('test-output/screenshots');
export const password = 'correct horse battery staple';

export interface WebTestApp extends TestApp {
  baseUrl: string;
  browser: Browser;
  /** Creates a user in the tenant (the tenant is created with an API key when new); returns the email. */
  user(tenant: string, email: string, role: 'viewer' | 'editor' | 'admin'): Promise<string>;
  /** A new browser context (own cookies; en-GB unless `options` say otherwise) signed in as the user. */
  signedIn(tenant: string, email: string, options?: BrowserContextOptions): Promise<{ context: BrowserContext; page: Page }>;
  shoot(page: Page, name: string): Promise<void>;
  /** Runs axe-core on the page; returns the serious and critical violations. */
  axe(page: Page): Promise<{ id: string; impact: string; help: string; nodes: number }[]>;
}

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export async function startWebTestApp(env: Record<string, string> = {}): Promise<WebTestApp> {
  const testApp = await startTestApp({ FOLIO_WEBHOOK_DISPATCHER: 'off', ...env });
  await testApp.app.listen({ port: 0, host: '127.0.0.1' });
  const address = testApp.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const baseUrl = `http://127.0.0.1:${port}`;
  let browser: Browser;
  try {
    if (!fs.existsSync(chromiumPath)) throw new Error(`no browser at ${chromiumPath}: install Debian's chromium (.ci/run does) or set FOLIO_CHROMIUM`);
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  } catch (error) {
    // Without this the open server and database keep the test process alive: a hang, not a failure.
    await testApp.close();
    throw error;
  }
  const users = createUserService(testApp.database.db);
  fs.mkdirSync(screenshotDir, { recursive: true });

  return {
    ...testApp,
    baseUrl,
    browser,
    async user(tenant, email, role) {
      await testApp.key(tenant);
      await users.create({ tenantName: tenant, email, role, password });
      return email;
    },
    async signedIn(tenant, email, options = {}) {
      const context = await browser.newContext({ baseURL: baseUrl, locale: 'en-GB', ...options });
      const page = await context.newPage();
      await page.goto('/sign-in');
      await page.getByLabel('Organisation').fill(tenant);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(password);
      await Promise.all([page.waitForURL('**/invoices'), page.getByRole('button', { name: 'Sign in' }).click()]);
      return { context, page };
    },
    async shoot(page, name) {
      await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
    },
    async axe(page) {
      await page.evaluate(axeSource);
      const result = await page.evaluate(async () => {
        const axe = (globalThis as unknown as { axe: { run: (options: unknown) => Promise<{ violations: { id: string; impact: string; help: string; nodes: unknown[] }[] }> } }).axe;
        return axe.run({ resultTypes: ['violations'] });
      });
      return result.violations
        .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
        .map((violation) => ({ id: violation.id, impact: violation.impact, help: violation.help, nodes: violation.nodes.length }));
    },
    async close() {
      await browser.close();
      await testApp.close();
    },
  };
}
