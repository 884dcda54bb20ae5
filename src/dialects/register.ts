import type { App } from '../core/app.js';
import type { Db } from '../db/database.js';
import type { ConnectionService } from '../modules/connections/service.js';
import type { InvoiceService } from '../modules/invoices/service.js';
import { staxRoutes } from './stax/routes.js';
import { unifiedRoutes } from './unified/routes.js';
import { procountorRoutes } from './procountor/routes.js';
import { midnightRoutes } from './midnight/routes.js';
import { crmRoutes } from './crm/routes.js';

/**
 * The seed systems' APIs, each under its own base path (a client changes only its base URL and
 * credentials) and in its own plugin scope (its own error shape and not-found answer).
 */
export interface DialectDeps {
  services: { invoices: InvoiceService; connections: ConnectionService };
  db: Db;
}

export async function registerDialects(app: App, { services, db }: DialectDeps) {
  await app.register(async (scope) => staxRoutes(scope, { invoices: services.invoices }), { prefix: '/compat/stax' });
  await app.register(async (scope) => unifiedRoutes(scope, services), { prefix: '/compat/unified' });
  await app.register(async (scope) => procountorRoutes(scope, { invoices: services.invoices, db }), { prefix: '/compat/procountor' });
  await app.register(async (scope) => midnightRoutes(scope, { invoices: services.invoices, connections: services.connections, db }), { prefix: '/compat/midnight' });
  await app.register(async (scope) => crmRoutes(scope, { invoices: services.invoices, db }), { prefix: '/compat/crm' });
}
