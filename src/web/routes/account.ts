import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../core/app.js';
import { AppError } from '../../shared/errors.js';
import { assertCsrf, renderPage, sessionCookie, signInCsrfCookie, type WebDeps } from '../context.js';

/** Only a path on this site is a valid place to return to after signing in (no open redirect). */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[\x21-\x7e]{0,500}$/.test(next) ? next : '/invoices';
}

/** Sign-in and sign-out. */
export async function accountRoutes(app: App, { config, web }: WebDeps) {
  const cookieBase = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: config.web.secureCookies };

  // Before sign-in there is no session: the form's token is checked against a cookie (double submit).
  async function showSignIn(request: FastifyRequest, reply: FastifyReply, data: { error?: string; email?: string; tenant?: string; status?: number }) {
    const token = randomBytes(24).toString('base64url');
    reply.setCookie(signInCsrfCookie, token, { ...cookieBase, maxAge: 3600 });
    const next = safeNext((request.query as { next?: string }).next ?? (request.body as { next?: string } | undefined)?.next);
    return renderPage(request, reply, 'sign-in', { title: 'Sign in', signInToken: token, next, error: data.error, email: data.email ?? '', tenant: data.tenant ?? '' }, data.status ?? 200);
  }

  app.get('/sign-in', { config: { webScope: 'public' } }, async (request, reply) => {
    if (request.webUser) return reply.redirect('/invoices');
    return showSignIn(request, reply, {});
  });

  app.post('/sign-in', { config: { webScope: 'public' } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const text = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : '');
    const expected = request.cookies[signInCsrfCookie] ?? '';
    const given = text('_csrf');
    if (!expected || expected.length !== given.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(given))) {
      throw new AppError('forbidden', 'The sign-in form is stale; reload the page and try again.');
    }
    const result = await web.users.signIn({ tenantName: text('tenant'), email: text('email'), password: text('password') });
    if (!result.ok) {
      const error = result.reason === 'locked'
        ? `Too many wrong passwords: sign-in for this account is paused for ${Math.ceil((result.retryAfterMs ?? 60_000) / 60_000)} minute(s).`
        : 'The organisation, email or password is not right.';
      return showSignIn(request, reply, { error, email: text('email'), tenant: text('tenant'), status: result.reason === 'locked' ? 429 : 401 });
    }
    // A fresh session token on every sign-in; whatever cookie the browser had is replaced.
    await web.users.signOut(request.cookies[sessionCookie]);
    reply.clearCookie(signInCsrfCookie, { path: '/' });
    reply.setCookie(sessionCookie, result.sessionToken, { ...cookieBase, maxAge: config.web.sessionHours * 3600 });
    return reply.redirect(safeNext(text('next')), 303);
  });

  app.post('/sign-out', { config: { webScope: 'invoices:read' } }, async (request, reply) => {
    assertCsrf(request);
    await web.users.signOut(request.cookies[sessionCookie]);
    reply.clearCookie(sessionCookie, { path: '/' });
    return reply.redirect('/sign-in', 303);
  });
}
