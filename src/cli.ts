import { parseArgs } from 'node:util';
import { loadConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { createApiKey } from './modules/tenants/service.js';
import { createInvoiceService } from './modules/invoices/service.js';
import { attachmentServiceFromConfig } from './modules/attachments/service.js';
import { createConnectionService } from './modules/connections/service.js';
import { tenantStore } from './modules/tenants/store.js';

const usage = `Usage:
  npm run folio -- keys create --tenant NAME [--scopes invoices:read,invoices:write] [--currency EUR]
  npm run folio -- connections create --tenant NAME --name NAME
  npm run folio -- migrate
  npm run folio -- blobs sweep [--grace-minutes 60]`;

async function main(argv: string[]): Promise<number> {
  const [group, command, ...rest] = argv;
  const config = loadConfig();
  if (group === 'migrate') {
    const database = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
    await database.close();
    console.log(`migrated (${database.engine})`);
    return 0;
  }
  if (group === 'blobs' && command === 'sweep') {
    const { values } = parseArgs({ args: rest, options: { 'grace-minutes': { type: 'string' } } });
    const graceMinutes = Number(values['grace-minutes'] ?? 60);
    if (!Number.isFinite(graceMinutes) || graceMinutes < 0) {
      console.error(usage);
      return 2;
    }
    const database = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
    try {
      const invoices = createInvoiceService({ db: database.db, engine: database.engine, maxLinesPerInvoice: config.maxLinesPerInvoice });
      const swept = await attachmentServiceFromConfig(config, database.db, invoices).sweep(graceMinutes * 60_000);
      console.log(`swept ${swept.blobsDeleted} unreferenced blobs (${swept.bytesFreed} bytes) and ${swept.stagingDeleted} staging files`);
    } finally {
      await database.close();
    }
    return 0;
  }
  if (group === 'connections' && command === 'create') {
    const { values } = parseArgs({ args: rest, options: { tenant: { type: 'string' }, name: { type: 'string' } } });
    if (!values.tenant || !values.name) {
      console.error(usage);
      return 2;
    }
    const database = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
    try {
      const tenant = await tenantStore.findByName(database.db, values.tenant);
      if (!tenant) throw new Error(`No tenant named "${values.tenant}".`);
      const connection = await createConnectionService(database.db).create(tenant.id, values.name);
      console.log(`tenant ${tenant.id} connection "${connection.name}"`);
      console.log(connection.id); // alone on the last line, for scripts
    } finally {
      await database.close();
    }
    return 0;
  }
  if (group === 'keys' && command === 'create') {
    const { values } = parseArgs({
      args: rest,
      options: { tenant: { type: 'string' }, scopes: { type: 'string' }, currency: { type: 'string' } },
    });
    if (!values.tenant) {
      console.error(usage);
      return 2;
    }
    const database = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
    try {
      const created = await createApiKey(database.db, {
        tenantName: values.tenant,
        scopes: (values.scopes ?? 'invoices:read,invoices:write').split(','),
        baseCurrency: values.currency,
      });
      console.log(`tenant ${created.tenantId} key ${created.keyId} scopes ${created.scopes.join(',')}`);
      console.log(created.key); // alone on the last line, for scripts
    } finally {
      await database.close();
    }
    return 0;
  }
  console.error(usage);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`folio: ${(error as Error).message}`);
    process.exit(1);
  },
);
