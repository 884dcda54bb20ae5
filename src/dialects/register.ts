import type { App, AppDeps } from '../http/app.js';
import { staxRoutes } from './stax/routes.js';
import { midnightRoutes } from './midnight/routes.js';
import { crmRoutes } from './crm/routes.js';

/**
 * The seed systems' APIs, each under its own base path (a client changes only its base URL and
 * credentials) and in its own plugin scope (its own error shape and not-found answer).
 */
export async function registerDialects(app: App, deps: AppDeps) {
  await app.register(async (scope) => staxRoutes(scope as unknown as App, deps), { prefix: '/compat/stax' });
  await app.register(async (scope) => midnightRoutes(scope as unknown as App, deps), { prefix: '/compat/midnight' });
  await app.register(async (scope) => crmRoutes(scope as unknown as App, deps), { prefix: '/compat/crm' });
}
