import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import view from '@fastify/view';
import { Eta } from 'eta';
import type { App } from '../core/app.js';
import { AppError } from '../shared/errors.js';
import { assertCsrf, can, escapeHtml, renderPage, sessionCookie, webServices, type AppDeps, type WebDeps } from './context.js';
import { accountRoutes } from './routes/account.js';
import { customerPages } from './routes/customers.js';
import { invoiceActionRoutes } from './routes/invoice-actions.js';
import { invoiceEditorRoutes } from './routes/invoice-editor.js';
import { invoicePages } from './routes/invoices.js';
import { settingsPages } from './routes/settings.js';

/**
 * No inline script or style at all: htmx and the page script are files from this origin, and
 * htmx is told not to inject its indicator styles. No framing (clickjacking).
 */
export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const here = path.dirname(fileURLToPath(import.meta.url));
/** Templates and assets live beside this file in src/; the build (dist/) reads them from src/. */
const webSourceDir = fs.existsSync(path.join(here, 'views')) ? here : path.resolve(here, '../../src/web');

function readAsset(file: string): Buffer {
  return fs.readFileSync(file);
}

export async function webApp(app: App, deps: AppDeps): Promise<void> {
  const web = webServices(deps);
  const webDeps: WebDeps = { ...deps, web };
  const require = createRequire(import.meta.url);
  const assets: Record<string, { body: Buffer; type: string }> = {
    'htmx.min.js': { body: readAsset(require.resolve('htmx.org/dist/htmx.min.js')), type: 'text/javascript; charset=utf-8' },
    'app.js': { body: readAsset(path.join(webSourceDir, 'assets/app.js')), type: 'text/javascript; charset=utf-8' },
    'app.css': { body: readAsset(path.join(webSourceDir, 'assets/app.css')), type: 'text/css; charset=utf-8' },
  };

  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 1024 * 1024 });
  await app.register(multipart, { limits: { fileSize: deps.config.maxAttachmentBytes, files: 1, fields: 5, parts: 6 } });
  await app.register(view, {
    engine: { eta: new Eta({ views: path.join(webSourceDir, 'views'), cache: true, autoEscape: true, autoTrim: [false, 'nl'] }) },
    root: path.join(webSourceDir, 'views'),
    production: true,
  });

  app.decorateRequest('webUser', null);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('content-security-policy', contentSecurityPolicy);
    reply.header('x-frame-options', 'DENY');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
    if (request.routeOptions.config?.webScope !== 'public') reply.header('cache-control', 'no-store');
    request.webUser = await web.users.resolveSession(request.cookies?.[sessionCookie]);
  });

  // Signed in, allowed by role, and for every form post the session's CSRF token.
  app.addHook('preHandler', async (request, reply) => {
    const needed = request.routeOptions.config?.webScope;
    if (needed === 'public' || needed === undefined) return;
    if (!request.webUser) {
      if (request.method === 'GET') return reply.redirect(`/sign-in?next=${encodeURIComponent(request.url.slice(0, 500))}`);
      throw new AppError('unauthorized', 'Your session has ended; sign in again.');
    }
    if (request.method !== 'GET' && request.method !== 'HEAD' && !request.isMultipart()) assertCsrf(request);
    if (!can(request, needed)) throw new AppError('forbidden', `Your role (${request.webUser.role}) does not allow this.`);
  });

  app.setErrorHandler(async (error, request, reply) => {
    const appError = error instanceof AppError ? error : null;
    const status = appError?.status ?? ((error as { statusCode?: number }).statusCode && (error as { statusCode: number }).statusCode < 500 ? (error as { statusCode: number }).statusCode : 500);
    if (status >= 500) request.log.error({ err: error }, 'web page failed');
    const message = status >= 500 ? 'Something went wrong on our side; nothing was changed. Try again in a moment.' : appError?.message ?? 'The request could not be handled.';
    if (request.headers['hx-request'] === 'true') {
      return reply.code(200).type('text/html; charset=utf-8').send(`<p class="error" role="alert">${escapeHtml(message)}</p>`);
    }
    return renderPage(request, reply, 'error', { title: status === 404 ? 'Not found' : 'Something is wrong', status, message }, status);
  });

  app.get('/assets/:file', { config: { webScope: 'public' } }, async (request, reply) => {
    const asset = assets[(request.params as { file: string }).file];
    if (!asset) throw new AppError('not-found', 'No such file.');
    return reply.header('cache-control', 'public, max-age=3600').type(asset.type).send(asset.body);
  });

  app.get('/', { config: { webScope: 'invoices:read' } }, async (_request, reply) => reply.redirect('/invoices'));

  await accountRoutes(app, webDeps);
  await invoicePages(app, webDeps);
  await invoiceEditorRoutes(app, webDeps);
  await invoiceActionRoutes(app, webDeps);
  await customerPages(app, webDeps);
  await settingsPages(app, webDeps);
}

