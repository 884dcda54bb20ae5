import readline from 'node:readline';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { loadConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { createApiKey } from './modules/tenants/service.js';
import { createUserService } from './modules/users/service.js';
import { createInvoiceService } from './modules/invoices/service.js';
import { attachmentServiceFromConfig } from './modules/attachments/service.js';

const usage = `Usage:
  npm run folio -- keys create --tenant NAME [--scopes invoices:read,invoices:write] [--currency EUR]
  npm run folio -- users create --tenant NAME --email EMAIL --role viewer|editor|admin   (password from stdin or a prompt)
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
  if (group === 'users' && command === 'create') {
    const { values } = parseArgs({ args: rest, options: { tenant: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' } } });
    if (!values.tenant || !values.email || !values.role) {
      console.error(usage);
      return 2;
    }
    const password = await readPassword();
    const database = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
    try {
      const user = await createUserService(database.db).create({ tenantName: values.tenant, email: values.email, role: values.role, password });
      console.log(`user ${user.userId} ${user.email} role ${user.role} tenant ${user.tenantId}`);
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

/** The password: the first line of stdin when piped, else a prompt that does not echo. */
async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0];
  }
  process.stdout.write('Password: ');
  const rl = readline.createInterface({ input: process.stdin, output: new Writable({ write: (_chunk, _encoding, done) => done() }), terminal: true });
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stdout.write('\n');
  return answer;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`folio: ${(error as Error).message}`);
    process.exit(1);
  },
);
