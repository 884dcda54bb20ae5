import { Transform } from 'node:stream';
import Fastify from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { App } from '../core/app.js';
import { hasScope } from '../core/auth.js';
import { bearerCredential } from '../core/request-context.js';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/database.js';
import { sql } from 'kysely';
import { AppError } from '../shared/errors.js';
import { newId } from '../shared/ids.js';
import { nullableSerializerFactory } from './serializer.js';
import { createAuthenticator } from '../modules/tenants/service.js';
import { authenticateAccessToken } from '../modules/tenants/access-tokens.js';
import { createConnectionService, type ConnectionService } from '../modules/connections/service.js';
import { connectionRoutes } from '../modules/connections/routes.js';
import { registerDialects } from '../dialects/register.js';
import { createCustomerService, type CustomerService } from '../modules/customers/service.js';
import { customerReplayRenderer, customerRoutes } from '../modules/customers/routes.js';
import { createInvoiceService, type InvoiceService } from '../modules/invoices/service.js';
import { createWriteKernel, type WriteKernel } from '../modules/invoices/versioning.js';
import { WriteBaseCache } from '../modules/invoices/write-base-cache.js';
import { systemClock, type Clock } from '../shared/time.js';
import { invoiceRoutes } from '../modules/invoices/routes.js';
import { createInvoiceReadCache } from '../modules/invoices/read-cache.js';
import { invoiceAtVersion, invoiceReplayRenderer } from '../modules/invoices/write-answer.js';
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
import { documentRoutes } from '../modules/documents/routes.js';
import { documentServiceFromConfig } from '../modules/documents/service.js';
import { startWebhookDispatcher } from '../modules/webhooks/dispatcher.js';
import { createJobService, type JobService } from '../modules/jobs/service.js';
import { jobListFilter, matchesFromInvoiceList } from '../modules/jobs/matches.js';
import { jobRoutes } from '../modules/jobs/routes.js';
import { startJobWorker } from '../modules/jobs/worker.js';
import { webApp } from '../web/plugin.js';
import { recordContentTypeParsers } from './media-types.js';
import { sendProblem } from './errors.js';
import { createMetrics } from './metrics.js';
import { openApiOptions } from './openapi.js';
import { registerProblemPages } from './problem-pages.js';
import { jsonShapeScanner } from './body-shape.js';
import { decodeUtf8Body, isJsonMediaType, parseJsonBody } from './json-body.js';
import { createRateLimiter, createSharedRateLimiter, rateLimitKey } from './rate-limit.js';
import { installRepresentations } from './representation.js';
import { refuseNulInUrl } from './request-guards.js';

export type { App };

export interface AppServices {
  kernel: WriteKernel;
  customers: CustomerService;
  invoices: InvoiceService;
  lifecycle: LifecycleService;
  payments: PaymentService;
  creditNotes: CreditNoteService;
  history: HistoryService;
  connections: ConnectionService;
  jobs: JobService;
}

/** What the composition needs: the config, the database handle and (tests may pass their own) the services. */
export interface AppDeps {
  config: Config;
  database: DatabaseHandle;
  services: AppServices;
  /** Where use cases read the time; the system clock unless a test fixes it. */
  clock?: Clock;
}

// ajv-formats is CommonJS: under NodeNext its default import is the module object, whose `default` is the plugin.
const addFormats = addFormatsModule.default;

// A committed event always has its webhook deliveries queued, in its own transaction.
onEventAppended(enqueueWebhookDeliveries);

/**
 * Request bodies are validated strictly (no coercion, unknown fields refused); query strings are coerced.
 * Validation stops at the first error, so its cost is bounded by the schema, not by how many
 * members a hostile body holds (issue 13). A small body that fails is validated once more,
 * collecting every error, so a client still sees all its mistakes in one answer.
 */
function buildValidators() {
  // verbose: errors carry their schema, so an unknown field can be answered with the closest known one.
  const common = { removeAdditional: false, useDefaults: true, strict: false, verbose: true } as const;
  const ajvPair = (coerceTypes: false | 'array') => ({
    firstError: addFormats(new Ajv({ ...common, allErrors: false, coerceTypes })),
    allErrors: addFormats(new Ajv({ ...common, allErrors: true, coerceTypes })),
  });
  return { body: ajvPair(false), params: ajvPair('array') };
}

/** Bodies with fewer values than this get every error listed; larger ones get the first. */
const maxValuesForAllErrors = 2_000;

function countValuesUpTo(value: unknown, limit: number): number {
  let count = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0 && count < limit) {
    const next = pending.pop();
    count++;
    if (next !== null && typeof next === 'object') pending.push(...Object.values(next).slice(0, limit));
  }
  return count;
}

function compileBoundedValidator(ajvs: { firstError: Ajv; allErrors: Ajv }, schema: object) {
  const firstError = ajvs.firstError.compile(schema);
  let allErrors: ValidateFunction | undefined;
  const validate = (data: unknown): boolean => {
    if (firstError(data)) return true;
    validate.errors = firstError.errors;
    if (countValuesUpTo(data, maxValuesForAllErrors) < maxValuesForAllErrors) {
      allErrors ??= ajvs.allErrors.compile(schema);
      allErrors(data);
      validate.errors = allErrors.errors ?? firstError.errors;
    }
    return false;
  };
  validate.errors = null as ErrorObject[] | null | undefined;
  return validate;
}

/** Routes whose bodies may be whole invoices (up to FOLIO_MAX_LINES lines): the full body limit. */
const largeBodyRoutes = new Set(['POST /v1/invoices', 'PATCH /v1/invoices/:id', 'PUT /v1/invoices/:id']);
/** Every other route's body limit: a customer, payment, credit note (≤ 200 lines) or setting is far smaller. */
const smallBodyLimitBytes = 256 * 1024;

/** The one write kernel every invoice change goes through, and the services built on it. */
export function buildServices(config: Config, database: DatabaseHandle, clock: Clock = systemClock): AppServices {
  const { db, engine } = database;
  const writeBases = config.writeBaseCacheLines > 0 ? new WriteBaseCache(config.writeBaseCacheLines) : undefined;
  const kernel = createWriteKernel({ db, engine, clock, writeBases });
  const invoices = createInvoiceService({ db, engine, kernel, maxLinesPerInvoice: config.maxLinesPerInvoice });
  const history = createHistoryService(db);
  const jobs = createJobService({ db, engine, invoices, history, now: () => clock.nowIso(), listMatches: matchesFromInvoiceList(invoices), checkFilter: (filter) => void jobListFilter(filter) });
  return {
    kernel,
    customers: createCustomerService(db, clock),
    invoices,
    lifecycle: createLifecycleService({ kernel, invoices }),
    payments: createPaymentService({ db, kernel, invoices }),
    creditNotes: createCreditNoteService({ db, kernel }),
    history,
    connections: createConnectionService(db, clock),
    jobs,
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
    routerOptions: { maxParamLength: 200 },
    schemaController: { compilersFactory: { buildSerializer: nullableSerializerFactory() } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const validators = buildValidators();
  app.setValidatorCompiler(({ schema, httpPart }) => compileBoundedValidator(httpPart === 'body' ? validators.body : validators.params, schema));

  // Per-route body limits: only whole-invoice writes get the full FOLIO_BODY_LIMIT_BYTES.
  app.addHook('onRoute', (route) => {
    if (route.bodyLimit !== undefined) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.some((method) => largeBodyRoutes.has(`${method} ${route.url}`))) return;
    route.bodyLimit = Math.min(smallBodyLimitBytes, config.bodyLimitBytes);
  });

  const services: AppServices = deps.services ?? buildServices(config, database, deps.clock ?? systemClock);

  app.decorate('clock', services.kernel.clock);
  app.decorateRequest('auth', null);

  recordContentTypeParsers(app);
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

  // JSON bodies are shape-checked while they stream in (src/http/body-shape.ts): a body of 150,000
  // keys is refused after its first kilobytes, before the rest is read, decoded or parsed (issue 13).
  app.addHook('preParsing', async (request, _reply, payload) => {
    if (!isJsonMediaType(request.headers['content-type'])) return payload;
    const scanner = jsonShapeScanner();
    return payload.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          try {
            scanner.feed(chunk);
            callback(null, chunk);
          } catch (error) {
            callback(error as Error);
          }
        },
      }),
    );
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

  // Request rate per API key (token bucket; FOLIO_RATE_LIMIT_PER_MINUTE, 0 = off): in this process
  // for the embedded engine, shared by every process through the database on PostgreSQL.
  const rateLimiter =
    database.engine === 'postgres'
      ? createSharedRateLimiter({ db: database.db, perMinute: config.rateLimitPerMinute, leaseTokens: config.rateLimitLeaseTokens || undefined, onError: (error) => app.log.warn({ err: error }, 'shared rate limit unavailable; this process decides alone') })
      : createRateLimiter({ perMinute: config.rateLimitPerMinute });
  app.addHook('onRequest', async (request) => {
    const key = rateLimitKey(request);
    if (key) await rateLimiter.take(key);
  });

  app.setErrorHandler((error, request, reply) => sendProblem(request, reply, error));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, new AppError('not-found', `No route ${request.method} ${request.url.split('?')[0]}.`)),
  );

  await app.register(swagger, openApiOptions());
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
  const documents = documentServiceFromConfig(config, db, services);
  const idempotency = registerIdempotency(app, { db, engine, ttlHours: config.idempotencyTtlHours });
  idempotency.registerReplayRenderer('invoice', invoiceReplayRenderer(services.invoices, services.history));
  idempotency.registerResourceAtVersion('invoice', invoiceAtVersion(services.invoices, services.history));
  idempotency.registerReplayRenderer('customer', customerReplayRenderer(services.customers));
  idempotency.registerReplayRenderer('invoice_job', async (ctx, id, _version, reply) => reply.status(202).send(await services.jobs.get(ctx, id)));
  startJobWorker(app, services.jobs, config.jobs);
  startWebhookDispatcher(app, { db, engine, config: config.webhooks, onAttempt: metrics.onWebhookAttempt });
  await app.register(async (v1) => {
    await customerRoutes(v1, { customers: services.customers });
    await invoiceRoutes(v1, { invoices: services.invoices, history: services.history, readCache: createInvoiceReadCache({ db, engine, maxBytes: config.invoiceReadCacheBytes }) });
    await lifecycleRoutes(v1, { lifecycle: services.lifecycle });
    await paymentRoutes(v1, { payments: services.payments });
    await creditNoteRoutes(v1, { creditNotes: services.creditNotes });
    await tenantSettingsRoutes(v1, { db, documents, clock: services.kernel.clock });
    // Own scope: the multipart parser must not reach the JSON routes (multipart there is a 415).
    await v1.register(async (scope) => attachmentRoutes(scope, { attachments: attachmentServiceFromConfig(config, db, services.kernel, services.invoices), maxAttachmentBytes: config.maxAttachmentBytes }));
    await historyRoutes(v1, { invoices: services.invoices, history: services.history });
    await documentRoutes(v1, { documents });
    await eventRoutes(v1, { db });
    await jobRoutes(v1, { jobs: services.jobs });
    await webhookRoutes(v1, { webhooks: createWebhookService({ db, allowPrivateTargets: config.webhooks.allowPrivateTargets, clock: services.kernel.clock }) });
    await connectionRoutes(v1, { connections: services.connections });
  }, { prefix: '/v1' });
  await registerDialects(app, { services, db });

  // The web app for finance staff (src/web/): its own scope, so its form, cookie and
  // multipart parsers and its HTML error pages never reach the JSON API.
  await app.register(async (web) => webApp(web, { config, database, services }));

  return app;
}
