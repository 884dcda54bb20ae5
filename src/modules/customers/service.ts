import { markIdempotentChange } from '../idempotency/service.js';
import type { Db } from '../../db/database.js';
import { assertIfMatch, type RequestContext, type WriteOptions } from '../../core/request-context.js';
import { decodeCursor, toPage } from '../../core/paging.js';
import { AppError, notFound, validationError } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { nowIso } from '../../shared/time.js';
import type { BillTo } from '../invoices/domain/model.js';
import type { CustomerCreate, CustomerListQuery, CustomerPatch } from './schemas.js';
import { customerStore, type Customer } from './store.js';

const reservedKeys = new Set(['__proto__', 'constructor', 'prototype']);

function mergeMetadata(current: Record<string, string>, patch: Record<string, string | null> | null | undefined) {
  if (patch === undefined) return current;
  if (patch === null) return {};
  const result = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (reservedKeys.has(key)) throw validationError([{ pointer: `/metadata/${key}`, detail: 'reserved key' }]);
    if (value === null) delete result[key];
    else result[key] = value;
  }
  if (Object.keys(result).length > 50) throw validationError([{ pointer: '/metadata', detail: 'at most 50 keys' }]);
  return result;
}

function applyCustomerFields(customer: Customer, input: CustomerPatch): Customer {
  const next = { ...customer };
  if (input.name !== undefined) next.name = input.name;
  if (input.email !== undefined) next.email = input.email;
  if (input.phone !== undefined) next.phone = input.phone;
  if (input.tax_id !== undefined) next.tax_id = input.tax_id;
  if (input.address !== undefined) next.address = input.address;
  if (input.language !== undefined) next.language = input.language;
  next.metadata = mergeMetadata(customer.metadata, input.metadata);
  return next;
}

/** What an invoice copies when it is linked to this customer. */
export function billToSnapshot(customer: Customer): BillTo {
  return {
    name: customer.name,
    email: customer.email,
    phone: customer.phone,
    tax_id: customer.tax_id,
    address: customer.address,
    language: customer.language,
  };
}

export function createCustomerService(db: Db) {
  return {
    async create(ctx: RequestContext, input: CustomerCreate): Promise<Customer> {
      const now = nowIso();
      const blank: Customer = {
        id: newId('cus'),
        object: 'customer',
        name: input.name,
        email: null,
        phone: null,
        tax_id: null,
        address: null,
        language: null,
        metadata: {},
        version: 1,
        created_at: now,
        updated_at: now,
      };
      const customer = applyCustomerFields(blank, input);
      return db.transaction().execute(async (tx) => {
        await customerStore.insert(tx, ctx.auth.tenantId, customer);
        // Ties the change to the request's Idempotency-Key in the same transaction (see idempotency/).
        await markIdempotentChange(tx, ctx, `customer/${customer.id}/${customer.version}`);
        return customer;
      });
    },

    async get(ctx: RequestContext, id: string): Promise<Customer> {
      const customer = await customerStore.find(db, ctx.auth.tenantId, id);
      if (!customer) throw notFound('customer', id);
      return customer;
    },

    async list(ctx: RequestContext, query: CustomerListQuery) {
      const limit = query.limit ?? 20;
      const rows = await customerStore.list(db, ctx.auth.tenantId, limit + 1, decodeCursor(query.cursor));
      return toPage(rows, limit);
    },

    async update(ctx: RequestContext, id: string, input: CustomerPatch, options: WriteOptions): Promise<Customer> {
      return db.transaction().execute(async (tx) => {
        const current = await customerStore.find(tx, ctx.auth.tenantId, id);
        if (!current) throw notFound('customer', id);
        assertIfMatch(options.ifMatch, current.version);
        const next = applyCustomerFields(current, input);
        next.version = current.version + 1;
        next.updated_at = nowIso();
        if (!(await customerStore.update(tx, ctx.auth.tenantId, next, current.version))) {
          throw new AppError('conflict', 'The customer changed while this update ran; retry.');
        }
        await markIdempotentChange(tx, ctx, `customer/${next.id}/${next.version}`);
        return next;
      });
    },
  };
}

export type CustomerService = ReturnType<typeof createCustomerService>;
