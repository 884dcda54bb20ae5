import Fastify from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { App } from '../core/app.js';
import { hasScope } from '../core/auth.js';
import { bearerCredential } from '../core/request-context.js';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/database.js';
import { sql } from 'kysely';
import { AppError } from '../shared/errors.js';
import { newId } from '../shared/ids.js';
import { createAuthenticator } from '../modules/tenants/service.js';
import { authenticateAccessToken } from '../modules/tenants/access-tokens.js';
import { createConnectionService, type ConnectionService } from '../modules/connections/service.js';
import { connectionRoutes } from '../modules/connections/routes.js';
import { registerDialects } from '../dialects/register.js';
import { createCustomerService, type CustomerService } from '../modules/customers/service.js';
import { customerReplayRenderer, customerRoutes } from '../modules/customers/routes.js';
import { createInvoiceService, type InvoiceService } from '../modules/invoices/service.js';
import { invoiceRoutes } from '../modules/invoices/routes.js';
import { invoiceReplayRenderer } from '../modules/invoices/write-answer.js';
import { createLifecycleService, type LifecycleService } from '../modules/invoices/lifecycle-service.js';
import { lifecycleRoutes } from '../modules/invoices/lifecycle-routes.js';
import { createPaymentService, type PaymentService } from '../modules/payments/service.js';
import { paymentRoutes } from '../modules/payments/routes.js';
import { creditNoteRoutes } from '../modules/credit-notes/routes.js';
import { createCreditNoteService, type CreditNoteService } from '../modules/credit-notes/service.js';
import { tenantSettingsRoutes } from '../modules/tenants/settings.js';
import { attachmentRoutes } from '../modules/attachments/routes.js';
import { attachmentServiceFromConfig } from '../modules/attachments/service.js';
import { createHistoryService, type HistoryService } from '../modules/history/service.js';
import { historyRoutes } from '../modules/history/routes.js';
import { registerIdempotency } from '../modules/idempotency/hooks.js';
import { onEventAppended } from '../modules/events/store.js';
import { eventRoutes } from '../modules/events/routes.js';
import { webhookRoutes } from '../modules/webhooks/routes.js';
import { createWebhookService } from '../modules/webhooks/service.js';
import { enqueueWebhookDeliveries } from '../modules/webhooks/store.js';
import { startWebhookDispatcher } from '../modules/webhooks/dispatcher.js';
import { sendProblem } from './errors.js';
import { createMetrics } from './metrics.js';
import { registerProblemPages } from './problem-pages.js';
import { decodeUtf8Body, parseJsonBody } from './json-body.js';
import { createRateLimiter, rateLimitKey } from './rate-limit.js';
import { installRepresentations } from './representation.js';
import { refuseNulInUrl } from './request-guards.js';

export type { App };

export interface AppServices {
  customers: CustomerService;
  invoices: InvoiceService;
  lifecycle: LifecycleService;
  payments: PaymentService;
  creditNotes: CreditNoteService;
  history: HistoryService;
  connections: ConnectionService;
}

/** What the composition needs: the config, the database handle and (tests may pass their own) the services. */
export interface AppDeps {
  config: Config;
  database: DatabaseHandle;
  services: AppServices;
}

// ajv-formats is CommonJS: under NodeNext its default import is the module object, whose `default` is the plugin.
const addFormats = addFormatsModule.default;

// A committed event always has its webhook deliveries queued, in its own transaction.
onEventAppended(enqueueWebhookDeliveries);

/** Request bodies are validated strictly (no coercion, unknown fields refused); query strings are coerced. */
function buildValidators() {
  const common = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false } as const;
  const bodyAjv = addFormats(new Ajv({ ...common, coerceTypes: false }));
  const paramAjv = addFormats(new Ajv({ ...common, coerceTypes: 'array' }));
  return { bodyAjv, paramAjv };
}

export function buildServices(config: Config, database: DatabaseHandle): AppServices {
  const invoices = createInvoiceService({ db: database.db, engine: database.engine, maxLinesPerInvoice: config.maxLinesPerInvoice });
  return {
    customers: createCustomerService(database.db),
    invoices,
    lifecycle: createLifecycleService(invoices),
    payments: createPaymentService(invoices),
    creditNotes: createCreditNoteService(invoices),
    history: createHistoryService(database.db),
    connections: createConnectionService(database.db),
  };
}

export async function buildApp(deps: Omit<AppDeps, 'services'> & { services?: AppServices }): Promise<App> {
  const { config, database } = deps;
  const app = Fastify({
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
    bodyLimit: config.bodyLimitBytes,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,100}$/.test(given) ? given : newId('req');
    },
    ajv: { customOptions: { allErrors: true } },
    routerOptions: { maxParamLength: 200 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const { bodyAjv, paramAjv } = buildValidators();
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : paramAjv).compile(schema));

  const services: AppServices = deps.services ?? buildServices(config, database);

  app.decorateRequest('auth', null);

  app.removeContentTypeParser('application/json');
  // Fastify's built-in text/plain parser would let a non-JSON body reach validation (a 400); it is a 415.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(decodeUtf8Body(body as Buffer)));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  installRepresentations(app);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    refuseNulInUrl(request);
  });

  // Authentication and scopes for every route that declares a scope.
  const authenticate = createAuthenticator(database.db);
  app.addHook('onRequest', async (request) => {
    const needed = request.routeOptions.config?.scope;
    if (!needed) return;
    const credential = (request.routeOptions.config?.credential ?? bearerCredential)(request);
    if (!credential) throw new AppError('unauthorized', 'Send an API key: Authorization: Bearer <key>.');
    const auth = 'apiKey' in credential ? await authenticate(credential.apiKey) : await authenticateAccessToken(database.db, credential.accessToken);
    if (!auth) throw new AppError('unauthorized', 'apiKey' in credential ? 'The API key is not valid.' : 'The access token is not valid or has expired; request a new one.');
    if (!hasScope(auth.scopes, needed)) throw new AppError('forbidden', `This API key lacks the "${needed}" scope.`);
    request.auth = auth;
  });

  // Request rate per API key (in-process token bucket; FOLIO_RATE_LIMIT_PER_MINUTE, 0 = off).
  const rateLimiter = createRateLimiter({ perMinute: config.rateLimitPerMinute });
  app.addHook('onRequest', async (request) => {
    const key = rateLimitKey(request);
    if (key) rateLimiter.take(key);
  });

  app.setErrorHandler((error, request, reply) => sendProblem(request, reply, error));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, new AppError('not-found', `No route ${request.method} ${request.url.split('?')[0]}.`)),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Folio',
        version: '0.1.0',
        description: 'Invoice system of record: invoices you can change safely after the fact.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const metrics = createMetrics(database, { token: config.metricsToken });
  metrics.register(app);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  registerProblemPages(app);
  // Liveness: the process answers. Readiness: the database answers too (a 503 takes it out of rotation).
  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok', engine: database.engine }));
  app.get('/health/ready', { schema: { hide: true } }, async () => {
    try {
      await sql`SELECT 1`.execute(database.db);
    } catch {
      throw new AppError('service-unavailable', 'The database is not answering.', { headers: { 'retry-after': '1' } });
    }
    return { status: 'ready', engine: database.engine };
  });

  const { db, engine } = database;
  const idempotency = registerIdempotency(app, { db, engine, ttlHours: config.idempotencyTtlHours });
  idempotency.registerReplayRenderer('invoice', invoiceReplayRenderer(services.invoices, services.history));
  idempotency.registerReplayRenderer('customer', customerReplayRenderer(services.customers));
  startWebhookDispatcher(app, { db, engine, config: config.webhooks, onAttempt: metrics.onWebhookAttempt });
  await app.register(async (v1) => {
    await customerRoutes(v1, { customers: services.customers });
    await invoiceRoutes(v1, { invoices: services.invoices, history: services.history });
    await lifecycleRoutes(v1, { lifecycle: services.lifecycle });
    await paymentRoutes(v1, { payments: services.payments });
    await creditNoteRoutes(v1, { creditNotes: services.creditNotes, db });
    await tenantSettingsRoutes(v1, { db });
    // Own scope: the multipart parser must not reach the JSON routes (multipart there is a 415).
    await v1.register(async (scope) => attachmentRoutes(scope, { attachments: attachmentServiceFromConfig(config, db, services.invoices), maxAttachmentBytes: config.maxAttachmentBytes }));
    await historyRoutes(v1, { invoices: services.invoices, history: services.history });
    await eventRoutes(v1, { db });
    await webhookRoutes(v1, { webhooks: createWebhookService({ db, allowPrivateTargets: config.webhooks.allowPrivateTargets }) });
    await connectionRoutes(v1, { connections: services.connections });
  }, { prefix: '/v1' });
  await registerDialects(app, { services, db });

  return app;
}
