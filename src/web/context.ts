import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { RequestContext } from '../core/request-context.js';
import { hasScope, type Scope } from '../core/auth.js';
import type { DatabaseHandle } from '../db/database.js';
import { attachmentServiceFromConfig } from '../modules/attachments/service.js';
import type { CreditNoteService } from '../modules/credit-notes/service.js';
import type { CustomerService } from '../modules/customers/service.js';
import type { HistoryService } from '../modules/history/service.js';
import type { LifecycleService } from '../modules/invoices/lifecycle-service.js';
import type { InvoiceService } from '../modules/invoices/service.js';
import type { WriteKernel } from '../modules/invoices/versioning.js';
import type { PaymentService } from '../modules/payments/service.js';
import { createTenantAdminService } from '../modules/tenants/admin-service.js';
import { authOfUser, createUserService, type SignedInUser } from '../modules/users/service.js';
import { createWebhookService } from '../modules/webhooks/service.js';
import { AppError } from '../shared/errors.js';
import { createFormatter, localeFrom } from './format.js';

declare module 'fastify' {
  interface FastifyRequest {
    webUser: SignedInUser | null;
  }
  interface FastifyContextConfig {
    /** Web pages: the scope the signed-in user's role must grant; 'public' for sign-in and assets. */
    webScope?: Scope | 'public';
  }
}

/** What every web route shares: its dependencies, the signed-in person, rendering, CSRF. */
export const sessionCookie = 'folio_session';
export const signInCsrfCookie = 'folio_signin_csrf';


/** What the composition root hands the web app: the same services the API routes use. */
export interface AppDeps {
  config: Config;
  database: DatabaseHandle;
  services: {
    kernel: WriteKernel;
    customers: CustomerService;
    invoices: InvoiceService;
    lifecycle: LifecycleService;
    payments: PaymentService;
    creditNotes: CreditNoteService;
    history: HistoryService;
  };
}

export type WebServices = ReturnType<typeof webServices>;

export function webServices(deps: AppDeps) {
  const { config, database, services } = deps;
  return {
    ...services,
    users: createUserService(database.db, {
      sessionTtlMs: config.web.sessionHours * 3_600_000,
      lockout: { maxFailures: config.web.maxFailedSignIns, windowMs: config.web.lockoutMinutes * 60_000 },
      clock: services.kernel.clock,
    }),
    tenantAdmin: createTenantAdminService(database.db, services.kernel.clock),
    webhooks: createWebhookService({ db: database.db, allowPrivateTargets: config.webhooks.allowPrivateTargets, clock: services.kernel.clock }),
    attachments: attachmentServiceFromConfig(config, database.db, services.kernel, services.invoices),
  };
}

export interface WebDeps extends AppDeps {
  web: WebServices;
}

/** Names the actors of audit entries: a person's email, an API key, or the system. */
export async function actorNamer(web: WebServices, tenantId: string, actorIds: (string | null)[]): Promise<(id: string | null) => string> {
  const emails = await web.users.emailsOf(tenantId, actorIds.filter((id): id is string => id !== null));
  return (id) => (id === null ? 'system' : emails.get(id) ?? (id.startsWith('key_') ? `API key ${id}` : id));
}

/** The use cases' context for a signed-in person: the user id is the actor in the audit trail. */
export function contextOf(request: FastifyRequest): RequestContext {
  if (!request.webUser) throw new AppError('unauthorized', 'Sign in first.');
  return { auth: authOfUser(request.webUser), requestId: String(request.id) };
}

export function can(request: FastifyRequest, scope: Scope): boolean {
  return request.webUser !== null && hasScope(authOfUser(request.webUser).scopes, scope);
}

const sameToken = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** What every page template gets besides its own data. */
export function pageData(request: FastifyRequest, data: Record<string, unknown>) {
  const user = request.webUser;
  return {
    user,
    csrf: user?.csrfToken ?? '',
    fmt: createFormatter(localeFrom(request.headers['accept-language'])),
    can: { write: can(request, 'invoices:write'), admin: can(request, 'admin') },
    path: request.url.split('?')[0],
    ...data,
  };
}

export async function renderPage(request: FastifyRequest, reply: FastifyReply, template: string, data: Record<string, unknown>, status = 200) {
  const html = await reply.viewAsync(template, pageData(request, data));
  return reply.code(status).type('text/html; charset=utf-8').send(html);
}


/** Form posts carry `_csrf`; htmx requests send the X-CSRF-Token header set on <body>. */
export function assertCsrf(request: FastifyRequest, sent?: string): void {
  const expected = request.webUser?.csrfToken;
  const body = request.body as Record<string, unknown> | undefined;
  const given = sent ?? (typeof body?._csrf === 'string' ? body._csrf : request.headers['x-csrf-token']);
  if (!expected || typeof given !== 'string' || !sameToken(given, expected)) {
    throw new AppError('forbidden', 'The form is missing its security token or it is stale; reload the page and try again.');
  }
}


export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] as string);
}
