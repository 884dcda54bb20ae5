import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openDatabase, type DatabaseHandle, type Db } from '../../src/db/database.js';
import { createTestDatabase, type TestDatabase } from '../helpers/harness.js';

/**
 * Both engines, migrated from empty, must end with the same tables, columns, keys and indexes.
 * Runs the same on either FOLIO_TEST_ENGINE: it always makes one database of each.
 *
 * Logical type mapping (physical types differ on purpose):
 *   SQLite TEXT            ↔ PostgreSQL text, varchar   → text
 *   SQLite INTEGER         ↔ PostgreSQL integer, bigint → integer
 *   SQLite TEXT            ↔ PostgreSQL numeric         → exact decimal (amounts, rates, quantities:
 *                            SQLite keeps the decimal string, PostgreSQL a NUMERIC)
 */
const knownDifferences = {
  // SQLite keys the event outbox by its rowid (seq, AUTOINCREMENT keeps it monotonic) and indexes
  // (tenant_id, seq); PostgreSQL keys by (tenant_id, seq) directly. Same reads, same order.
  primaryKeys: { events: { sqlite: 'seq', postgres: 'tenant_id,seq' } } as Record<string, { sqlite: string; postgres: string }>,
  sqliteOnlyIndexes: ['events_by_tenant'],
  // PostgreSQL orders the feed by the writing transaction's id (0011_event_commit_order); SQLite's
  // writers are serialised, so seq alone is commit order there and it needs neither.
  postgresOnlyColumns: ['events.xact_id'],
  // The invoice list's text search: trigram (pg_trgm) indexes exist in PostgreSQL only; SQLite
  // searches the tenant's rows (0010_list_indexes).
  postgresOnlyIndexes: ['events_by_tenant_commit', 'invoices_memo_trgm', 'invoices_bill_to_name_trgm', 'invoice_lines_description_trgm'],
  // Amounts are NUMERIC in PostgreSQL and TEXT in SQLite, so SQLite indexes the total as an
  // expression, CAST(total AS REAL), which its catalog lists without a column name.
  indexesOnExpressions: { invoices_by_total: { sqlite: 'invoices(tenant_id,,id)', postgres: 'invoices(tenant_id,total,id)' } } as Record<string, { sqlite: string; postgres: string }>,
  // An INTEGER PRIMARY KEY is SQLite's rowid: never null, though the catalog says nullable.
  sqliteRowidColumns: ['events.seq'],
};

interface Shape {
  columns: Map<string, { type: string; notNull: boolean }>; // "table.column"
  primaryKeys: Map<string, string>; // table → "a,b"
  uniques: Set<string>; // "table(a,b)" for UNIQUE column constraints
  indexes: Map<string, string>; // name → "table(a,b) [unique] [partial]"
}

function logicalType(engine: 'sqlite' | 'postgres', physical: string): string {
  const type = physical.toLowerCase();
  if (type === 'text' || type.startsWith('varchar') || type === 'character varying') return 'text';
  if (type === 'integer' || type === 'bigint') return 'integer';
  if (engine === 'postgres' && type === 'numeric') return 'decimal';
  if (engine === 'postgres' && type === 'xid8') return 'transaction id';
  throw new Error(`no logical mapping for ${engine} type ${physical}: add it to the table above`);
}

async function sqliteShape(db: Db): Promise<Shape> {
  const shape: Shape = { columns: new Map(), primaryKeys: new Map(), uniques: new Set(), indexes: new Map() };
  const tables = await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`.execute(db);
  for (const { name: table } of tables.rows) {
    const columns = await sql<{ name: string; type: string; notnull: number; pk: number }>`SELECT name, type, "notnull", pk FROM pragma_table_info(${table})`.execute(db);
    for (const column of columns.rows) {
      const rowid = knownDifferences.sqliteRowidColumns.includes(`${table}.${column.name}`);
      shape.columns.set(`${table}.${column.name}`, { type: logicalType('sqlite', column.type), notNull: column.notnull === 1 || column.pk > 0 || rowid });
    }
    const pk = columns.rows.filter((column) => column.pk > 0).sort((a, b) => a.pk - b.pk).map((column) => column.name).join(',');
    if (pk) shape.primaryKeys.set(table, pk);
    const indexList = await sql<{ name: string; unique: number; origin: string; partial: number }>`SELECT name, "unique", origin, partial FROM pragma_index_list(${table})`.execute(db);
    for (const index of indexList.rows) {
      const info = await sql<{ name: string }>`SELECT name FROM pragma_index_info(${index.name}) ORDER BY seqno`.execute(db);
      const columnsOf = info.rows.map((row) => row.name).join(',');
      if (index.origin === 'u') shape.uniques.add(`${table}(${columnsOf})`);
      if (index.origin === 'c') shape.indexes.set(index.name, `${table}(${columnsOf})${index.unique ? ' unique' : ''}${index.partial ? ' partial' : ''}`);
    }
  }
  return shape;
}

async function postgresShape(db: Db): Promise<Shape> {
  const shape: Shape = { columns: new Map(), primaryKeys: new Map(), uniques: new Set(), indexes: new Map() };
  const columns = await sql<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>`
    SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
    WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`.execute(db);
  for (const column of columns.rows) {
    shape.columns.set(`${column.table_name}.${column.column_name}`, { type: logicalType('postgres', column.data_type), notNull: column.is_nullable === 'NO' });
  }
  // Every index with its columns in order; those backing a constraint are the primary and unique keys.
  const indexes = await sql<{ index_name: string; table_name: string; columns: string; is_unique: boolean; is_partial: boolean; constraint_type: string | null }>`
    SELECT i.relname AS index_name, t.relname AS table_name,
           (SELECT string_agg(a.attname, ',' ORDER BY k.ordinality) FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, ordinality)
              JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum) AS columns,
           x.indisunique AS is_unique, x.indpred IS NOT NULL AS is_partial, c.contype AS constraint_type
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()
    LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.contype IN ('p', 'u')`.execute(db);
  for (const index of indexes.rows) {
    if (index.constraint_type === 'p') shape.primaryKeys.set(index.table_name, index.columns);
    else if (index.constraint_type === 'u') shape.uniques.add(`${index.table_name}(${index.columns})`);
    else shape.indexes.set(index.index_name, `${index.table_name}(${index.columns})${index.is_unique ? ' unique' : ''}${index.is_partial ? ' partial' : ''}`);
  }
  return shape;
}

const sorted = <T>(map: Map<string, T>) => [...map.entries()].sort(([a], [b]) => a.localeCompare(b));

let sqliteDb: TestDatabase;
let postgresDb: TestDatabase;
let sqliteHandle: DatabaseHandle;
let postgresHandle: DatabaseHandle;
let sqliteSchema: Shape;
let postgresSchema: Shape;

before(async () => {
  sqliteDb = await createTestDatabase('sqlite');
  postgresDb = await createTestDatabase('postgres');
  sqliteHandle = await openDatabase({ dataDir: sqliteDb.dataDir });
  postgresHandle = await openDatabase({ dataDir: postgresDb.dataDir, databaseUrl: postgresDb.databaseUrl, poolSize: 2 });
  sqliteSchema = await sqliteShape(sqliteHandle.db);
  postgresSchema = await postgresShape(postgresHandle.db);
});
after(async () => {
  await sqliteHandle?.close();
  await postgresHandle?.close();
  await sqliteDb?.drop();
  await postgresDb?.drop();
});

test('same tables and columns (names, nullability, logical types; amounts TEXT vs NUMERIC)', () => {
  assert.ok(sqliteSchema.columns.size > 100, 'the schema was read');
  const postgresOnly = new Map(postgresSchema.columns);
  for (const name of knownDifferences.postgresOnlyColumns) assert.ok(postgresOnly.delete(name), `${name} is no longer PostgreSQL-only: drop it from knownDifferences`);
  const sqliteColumns = sorted(sqliteSchema.columns);
  const postgresColumns = sorted(postgresOnly);
  assert.deepEqual(sqliteColumns.map(([name]) => name), postgresColumns.map(([name]) => name));
  for (const [name, postgresColumn] of postgresColumns) {
    const sqliteColumn = sqliteSchema.columns.get(name)!;
    const expectedSqliteType = postgresColumn.type === 'decimal' ? 'text' : postgresColumn.type;
    assert.equal(sqliteColumn.type, expectedSqliteType, `${name}: SQLite ${sqliteColumn.type}, PostgreSQL ${postgresColumn.type}`);
    assert.equal(sqliteColumn.notNull, postgresColumn.notNull, `${name}: NOT NULL differs`);
  }
});

test('same primary keys and unique constraints', () => {
  const expectedPostgresKeys = new Map(sqliteSchema.primaryKeys);
  for (const [table, keys] of Object.entries(knownDifferences.primaryKeys)) {
    assert.equal(sqliteSchema.primaryKeys.get(table), keys.sqlite);
    expectedPostgresKeys.set(table, keys.postgres);
  }
  assert.deepEqual(sorted(postgresSchema.primaryKeys), sorted(expectedPostgresKeys));
  assert.deepEqual([...postgresSchema.uniques].sort(), [...sqliteSchema.uniques].sort());
});

test('same indexes (names, tables, columns in order, unique, partial)', () => {
  const sqliteIndexes = new Map(sqliteSchema.indexes);
  const postgresIndexes = new Map(postgresSchema.indexes);
  for (const name of knownDifferences.sqliteOnlyIndexes) assert.ok(sqliteIndexes.delete(name), `${name} is no longer SQLite-only: drop it from knownDifferences`);
  for (const name of knownDifferences.postgresOnlyIndexes) assert.ok(postgresIndexes.delete(name), `${name} is no longer PostgreSQL-only: drop it from knownDifferences`);
  for (const [name, shapes] of Object.entries(knownDifferences.indexesOnExpressions)) {
    assert.equal(sqliteIndexes.get(name), shapes.sqlite);
    assert.equal(postgresIndexes.get(name), shapes.postgres);
    sqliteIndexes.set(name, shapes.postgres);
  }
  assert.ok(sqliteIndexes.size >= 10, 'the indexes were read');
  assert.deepEqual(sorted(postgresIndexes), sorted(sqliteIndexes));
});
