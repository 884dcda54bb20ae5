import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { Clock } from '../shared/time.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The app's clock (the write kernel's, decorated in src/http/app.ts): what is derived from "today"
     * on read (an invoice's `payment_status`: overdue) follows the same time as the use cases.
     */
    clock: Clock;
  }
}

/**
 * The Fastify instance every route module registers on: the default HTTP server with the TypeBox
 * type provider, so route handlers see typed params, query and body. Built in src/http/app.ts.
 */
export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;
