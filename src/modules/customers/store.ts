import type { DbOrTx } from '../../db/database.js';
import type { CustomersTable } from '../../db/schema.js';

export interface Customer {
  id: string;
  object: 'customer';
  name: string;
  email: string | null;
  phone: string | null;
  tax_id: string | null;
  address: Record<string, string | null> | null;
  language: string | null;
  metadata: Record<string, string>;
  version: number;
  created_at: string;
  updated_at: string;
}

function rowToCustomer(row: CustomersTable): Customer {
  return {
    id: row.id,
    object: 'customer',
    name: row.name,
    email: row.email,
    phone: row.phone,
    tax_id: row.tax_id,
    address: row.address === null ? null : JSON.parse(row.address),
    language: row.language,
    metadata: JSON.parse(row.metadata),
    version: row.version,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function customerToRow(tenantId: string, customer: Customer): CustomersTable {
  return {
    tenant_id: tenantId,
    id: customer.id,
    name: customer.name,
    email: customer.email,
    phone: customer.phone,
    tax_id: customer.tax_id,
    address: customer.address === null ? null : JSON.stringify(customer.address),
    language: customer.language,
    metadata: JSON.stringify(customer.metadata),
    version: customer.version,
    created_at: customer.created_at,
    updated_at: customer.updated_at,
  };
}

export const customerStore = {
  async find(db: DbOrTx, tenantId: string, id: string): Promise<Customer | undefined> {
    const row = await db.selectFrom('customers').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row ? rowToCustomer(row) : undefined;
  },
  async list(db: DbOrTx, tenantId: string, limit: number, beforeId?: string): Promise<Customer[]> {
    let query = db.selectFrom('customers').selectAll().where('tenant_id', '=', tenantId);
    if (beforeId) query = query.where('id', '<', beforeId);
    const rows = await query.orderBy('id', 'desc').limit(limit).execute();
    return rows.map(rowToCustomer);
  },
  async insert(db: DbOrTx, tenantId: string, customer: Customer): Promise<void> {
    await db.insertInto('customers').values(customerToRow(tenantId, customer)).execute();
  },
  async update(db: DbOrTx, tenantId: string, customer: Customer, expectedVersion: number): Promise<boolean> {
    const { tenant_id: _t, id: _i, created_at: _c, ...fields } = customerToRow(tenantId, customer);
    const result = await db
      .updateTable('customers')
      .set(fields)
      .where('tenant_id', '=', tenantId)
      .where('id', '=', customer.id)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },
};
