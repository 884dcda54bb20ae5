import readline from 'node:readline';
import { Writable } from 'node:stream';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { describeDatabase, loadConfig, loadEnvFile, type Config } from './config.js';
import { openDatabase, type DatabaseHandle } from './db/database.js';
import { buildServices } from './http/app.js';
import { createApiKey } from './modules/tenants/service.js';
import { tenantStore } from './modules/tenants/store.js';
import { allScopes } from './core/auth.js';
import { createUserService } from './modules/users/service.js';
import { attachmentServiceFromConfig } from './modules/attachments/service.js';
import { createConnectionService } from './modules/connections/service.js';
import type { RequestContext } from './core/request-context.js';
import { AppError } from './shared/errors.js';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInvoiceImporter, exportInvoices, type ImportReport } from './modules/jobs/import.js';
import { progressLine } from './modules/jobs/domain/progress.js';
import { createJobWorker } from './modules/jobs/worker.js';
import { nowIso, systemClock } from './shared/time.js';

/**
 * The operator's command line: `npm run folio -- <group> <command> [options]`. It reads the same
 * settings as the server (`.env`, FOLIO_DATA_DIR, DATABASE_URL) and says which database it uses
 * on stderr, so stdout stays clean for scripts (a new key is alone on the last line).
 */
interface Command {
  summary: string;
  usage: string;
  options?: ParseArgsConfig['options'];
  /** Positional arguments the command needs, by name (for the usage check). */
  positionals?: string[];
  run(context: { values: Record<string, string | boolean | undefined>; positionals: string[]; config: Config; open: () => Promise<DatabaseHandle> }): Promise<number>;
}

const tenantOption = { tenant: { type: 'string' as const } };

const commands: Record<string, Command> = {
  'keys create': {
    summary: 'Create an API key (and its tenant when new); prints the key alone on the last line.',
    usage: `keys create --tenant NAME [--scopes ${allScopes.join(',')}] [--currency EUR]`,
    options: { ...tenantOption, scopes: { type: 'string' }, currency: { type: 'string' } },
    async run({ values, open }) {
      if (typeof values.tenant !== 'string') return usageError('keys create', '--tenant is required');
      const database = await open();
      try {
        const created = await createApiKey(database.db, {
          tenantName: values.tenant,
          scopes: (typeof values.scopes === 'string' ? values.scopes : 'invoices:read,invoices:write').split(','),
          baseCurrency: typeof values.currency === 'string' ? values.currency : undefined,
        });
        console.log(`tenant ${created.tenantId} key ${created.keyId} scopes ${created.scopes.join(',')}`);
        console.log(created.key); // alone on the last line, for scripts
      } finally {
        await database.close();
      }
      return 0;
    },
  },
  'keys list': {
    summary: "List API keys (id, prefix, scopes, created, revoked); never the keys themselves.",
    usage: 'keys list [--tenant NAME]',
    options: tenantOption,
    async run({ values, open }) {
      const database = await open();
      try {
        const tenantId = typeof values.tenant === 'string' ? (await requireTenant(database, values.tenant)).id : undefined;
        const keys = await tenantStore.listKeys(database.db, tenantId);
        printRows(keys.map((key) => ({ tenant: key.tenant_id, id: key.id, prefix: `${key.key_prefix}…`, scopes: key.scopes, created: key.created_at, revoked: key.revoked_at ?? '' })));
      } finally {
        await database.close();
      }
      return 0;
    },
  },
  'keys revoke': {
    summary: 'Revoke an API key by its id (key_…); requests with it answer 401 within seconds.',
    usage: 'keys revoke KEY_ID',
    positionals: ['KEY_ID'],
    async run({ positionals, open }) {
      const database = await open();
      try {
        if (!(await tenantStore.revokeKey(database.db, positionals[0], nowIso()))) {
          console.error(`folio: no active key with id "${positionals[0]}" (keys list shows them)`);
          return 1;
        }
        console.log(`revoked ${positionals[0]}`);
      } finally {
        await database.close();
      }
      return 0;
    },
  },
  'users create': {
    summary: 'Create a person who signs in to the web app (viewer, editor or admin of a tenant); the password comes from stdin or a prompt.',
    usage: 'users create --tenant NAME --email EMAIL --role viewer|editor|admin',
    options: { ...tenantOption, email: { type: 'string' }, role: { type: 'string' } },
    async run({ values, open }) {
      if (typeof values.tenant !== 'string' || typeof values.email !== 'string' || typeof values.role !== 'string') {
        return usageError('users create', '--tenant, --email and --role are required');
      }
      const password = await readPassword();
      const database = await open();
      try {
        const user = await createUserService(database.db).create({ tenantName: values.tenant, email: values.email, role: values.role, password });
        console.log(`user ${user.userId} ${user.email} role ${user.role} tenant ${user.tenantId}`);
      } finally {
        await database.close();
      }
      return 0;
    },
  },
  'tenants list': {
    summary: 'List tenants (id, name, base currency, edit policy).',
    usage: 'tenants list',
    async run({ open }) {
      const database = await open();
      try {
        const tenants = await tenantStore.listTenants(database.db);
        printRows(tenants.map((tenant) => ({ id: tenant.id, name: tenant.name, currency: tenant.base_currency, edit_policy: tenant.edit_policy, created: tenant.created_at })));
      } finally {
        await database.close();
      }
      return 0;
    },
  },
  'connections create': {
    summary: 'Create a connection (the id a unified-API client sends as credentialId, a Midnight client as MISKEY); prints its id alone on the last line.',
    usage: 'connections create --tenant NAME --name NAME',
    options: { ...tenantOption, name: { type: 'string' } },
    async run({ values, open }) {
      if (typeof values.tenant !== 'string') return usageError('connections create', '--tenant is required');
      if (typeof values.name !== 'string') return usageError('connections create', '--name is required');
      const database = await open();
      try {
        const tenant = await requireTenant(database, values.tenant);
        const connection = await createConnectionService(database.db).create(tenant.id, values.name);
        console.log(`tenant ${tenant.id} connection "${connection.name}"`);
        console.log(connection.id); // alone on the last line, for scripts
      } finally {
        await database.close();
      }
      return 0;
    },
  },
  'invoices get': {
    summary: "Print one invoice of a tenant as JSON (by id), as the API answers it.",
    usage: 'invoices get INVOICE_ID --tenant NAME',
    options: tenantOption,
    positionals: ['INVOICE_ID'],
    async run({ values, positionals, config, open }) {
      if (typeof values.tenant !== 'string') return usageError('invoices get', '--tenant is required');
      const database = await open();
      try {
        const ctx = await operatorContext(database, values.tenant);
        console.log(JSON.stringify(await buildServices(config, database).invoices.get(ctx, positionals[0]), null, 2));
      } finally {
        await database.close();
      }
      return 0;
    },
  },
  'customers get': {
    summary: 'Print one customer of a tenant as JSON (by id).',
    usage: 'customers get CUSTOMER_ID --tenant NAME',
    options: tenantOption,
    positionals: ['CUSTOMER_ID'],
    async run({ values, positionals, config, open }) {
      if (typeof values.tenant !== 'string') return usageError('customers get', '--tenant is required');
      const database = await open();
      try {
        const ctx = await operatorContext(database, values.tenant);
        console.log(JSON.stringify(await buildServices(config, database).customers.get(ctx, positionals[0]), null, 2));
      } finally {
        await database.close();
      }
      return 0;
    },
  },
  'import invoices': {
    summary: 'Create or update invoices (by number, else reference) from a CSV or JSONL file, streamed; problems reported by line (docs/bulk-jobs.md).',
    usage: 'import invoices FILE.csv|FILE.jsonl --tenant NAME',
    options: tenantOption,
    positionals: ['FILE'],
    async run({ values, positionals, config, open }) {
      if (typeof values.tenant !== 'string') return usageError('import invoices', '--tenant is required');
      const file = positionals[0];
      const format = /\.jsonl$/i.test(file) ? 'jsonl' : /\.csv$/i.test(file) ? 'csv' : undefined;
      if (!format) return usageError('import invoices', 'FILE must end in .csv or .jsonl');
      const database = await open();
      try {
        const ctx = { ...(await operatorContext(database, values.tenant)), requestId: `import_${process.pid}` };
        const startedAt = Date.now();
        const progress = (report: ImportReport) =>
          console.error(`folio: ${report.rows} rows, ${report.invoices} invoices (${report.created} created, ${report.updated} updated, ${report.refused} refused), ${Math.round(report.invoices / Math.max((Date.now() - startedAt) / 1000, 0.001))}/s`);
        const importer = createInvoiceImporter({ invoices: buildServices(config, database).invoices, ctx, onProgress: progress });
        const input = createReadStream(file);
        const report = format === 'csv' ? await importer.importCsv(input) : await importer.importJsonl(input);
        console.log(`imported ${file}: ${report.rows} rows, ${report.invoices} invoices — ${report.created} created, ${report.updated} updated, ${report.unchanged} unchanged, ${report.refused} refused`);
        for (const problem of report.problems) console.log(`line ${problem.line} (${problem.key}): ${problem.problem}`);
        if (report.refused > report.problems.length) console.log(`… and ${report.refused - report.problems.length} more`);
        return report.refused > 0 ? 1 : 0;
      } finally {
        await database.close();
      }
    },
  },
  'export invoices': {
    summary: "Stream every invoice of a tenant to stdout, oldest first: CSV (one row per line, the import's columns) or JSONL (the API's JSON).",
    usage: 'export invoices --tenant NAME --format csv|jsonl [--output FILE]',
    options: { ...tenantOption, format: { type: 'string' }, output: { type: 'string' } },
    async run({ values, config, open }) {
      if (typeof values.tenant !== 'string') return usageError('export invoices', '--tenant is required');
      if (values.format !== 'csv' && values.format !== 'jsonl') return usageError('export invoices', '--format must be csv or jsonl');
      const database = await open();
      try {
        const ctx = await operatorContext(database, values.tenant);
        const output = typeof values.output === 'string' ? createWriteStream(values.output) : process.stdout;
        const count = await exportInvoices({ invoices: buildServices(config, database).invoices, ctx, format: values.format, output, today: systemClock.today() });
        if (output !== process.stdout) await new Promise<void>((resolve) => output.end(() => resolve()));
        console.error(`folio: exported ${count} invoices`);
      } finally {
        await database.close();
      }
      return 0;
    },
  },
  'jobs watch': {
    summary: 'Follow a bulk job: a progress bar with rate and ETA (a line per 10% when not a terminal), then the summary and refusals. --run also works it here (no server running).',
    usage: 'jobs watch JOB_ID --tenant NAME [--run]',
    options: { ...tenantOption, run: { type: 'boolean' } },
    positionals: ['JOB_ID'],
    async run({ values, positionals, config, open }) {
      if (typeof values.tenant !== 'string') return usageError('jobs watch', '--tenant is required');
      const database = await open();
      try {
        const ctx = await operatorContext(database, values.tenant);
        const { jobs } = buildServices(config, database);
        const worker = values.run ? createJobWorker({ jobs, config: config.jobs, log: (error) => console.error(`folio: ${(error as Error).message}`) }) : undefined;
        const working = worker?.runUntilIdle();
        const tty = process.stderr.isTTY === true;
        let lastDecile = -1;
        let job = await jobs.get(ctx, positionals[0]);
        for (;;) {
          const line = `${job.id} ${job.state}${job.matching_complete ? '' : ' (matching…)'} ${progressLine(job.counts, job.progress)}`;
          const decile = Math.floor(job.progress.percent / 10);
          if (tty) process.stderr.write(`\r${line}`);
          else if (decile !== lastDecile) console.error(line);
          lastDecile = decile;
          if (job.state === 'completed' || job.state === 'cancelled') break;
          await new Promise((resolve) => setTimeout(resolve, 500));
          job = await jobs.get(ctx, positionals[0]);
        }
        if (tty) process.stderr.write('\n');
        await working;
        const { counts } = job;
        console.log(`${job.id} ${job.state}${job.dry_run ? ' (dry run: nothing was written)' : ''}: matched ${counts.matched}, changed ${counts.changed}, unchanged ${counts.unchanged}, refused ${counts.refused}, failed ${counts.failed}, cancelled ${counts.cancelled}; amount difference ${job.amount_difference}`);
        for (const entry of job.refusals_by_rule) console.log(`  ${entry.rule}: ${entry.count}`);
        for (const outcome of ['refused', 'failed'] as const) {
          const page = await jobs.items(ctx, job.id, { outcome, limit: 50 });
          for (const item of page.data) console.log(`${outcome} ${item.invoice_id}: ${item.rule} — ${item.detail}`);
          if (page.has_more) console.log(`… more ${outcome}: GET /v1/invoice-jobs/${job.id}/items?outcome=${outcome}`);
        }
      } finally {
        await database.close();
      }
      return 0;
    },
  },
  migrate: {
    summary: 'Apply pending database migrations (the server also does this at start).',
    usage: 'migrate',
    async run({ open }) {
      const database = await open();
      await database.close();
      console.log(`migrated (${database.engine})`);
      return 0;
    },
  },
  'blobs sweep': {
    summary: 'Delete attachment bytes no invoice version references any more (older than the grace period).',
    usage: 'blobs sweep [--grace-minutes 60]',
    options: { 'grace-minutes': { type: 'string' } },
    async run({ values, config, open }) {
      const graceMinutes = Number(values['grace-minutes'] ?? 60);
      if (!Number.isFinite(graceMinutes) || graceMinutes < 0) return usageError('blobs sweep', '--grace-minutes must be a non-negative number');
      const database = await open();
      try {
        const services = buildServices(config, database);
        const swept = await attachmentServiceFromConfig(config, database.db, services.kernel, services.invoices).sweep(graceMinutes * 60_000);
        console.log(`swept ${swept.blobsDeleted} unreferenced blobs (${swept.bytesFreed} bytes) and ${swept.stagingDeleted} staging files`);
      } finally {
        await database.close();
      }
      return 0;
    },
  },
};

/** The password: the first line of stdin when piped, else a prompt that does not echo. */
async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0];
  }
  // The interface first: it puts the terminal in raw mode (its echo goes to a sink), so nothing
  // typed after the prompt appears is echoed by the terminal itself.
  const rl = readline.createInterface({ input: process.stdin, output: new Writable({ write: (_chunk, _encoding, done) => done() }), terminal: true });
  process.stderr.write('Password: ');
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stderr.write('\n');
  return answer;
}

/** The CLI acts for a tenant as an operator: full scopes, actor "cli" in history. */
async function operatorContext(database: DatabaseHandle, tenantName: string): Promise<RequestContext> {
  const tenant = await requireTenant(database, tenantName);
  return { auth: { tenantId: tenant.id, keyId: 'cli', scopes: new Set(allScopes) }, requestId: `cli_${process.pid}` };
}

async function requireTenant(database: DatabaseHandle, name: string) {
  const tenant = await tenantStore.findByName(database.db, name);
  if (!tenant) throw new Error(`no tenant named "${name}" in ${database.engine === 'sqlite' ? 'this SQLite file' : 'this database'} (tenants list shows them)`);
  return tenant;
}

function printRows(rows: Record<string, string>[]) {
  if (rows.length === 0) {
    console.log('(none)');
    return;
  }
  const columns = Object.keys(rows[0]);
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd();
  console.log(line(columns));
  for (const row of rows) console.log(line(columns.map((column) => row[column])));
}

function usageError(name: string, problem: string): number {
  console.error(`folio: ${problem}\nusage: npm run folio -- ${commands[name].usage}`);
  return 2;
}

export function helpText(): string {
  const width = Math.max(...Object.values(commands).map((command) => command.usage.length));
  return [
    'Folio command line. Usage: npm run folio -- <command> [options]   (help: --help after any command)',
    'It uses the same settings as the server: .env (or FOLIO_ENV_FILE), FOLIO_DATA_DIR, DATABASE_URL.',
    '',
    ...Object.values(commands).map((command) => `  ${command.usage.padEnd(width)}  ${command.summary}`),
  ].join('\n');
}

const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h' || arg === 'help';

export async function runCli(argv: string[]): Promise<number> {
  if (argv.length === 0 || isHelp(argv[0])) {
    console.log(helpText());
    return argv.length === 0 ? 2 : 0;
  }
  const name = commands[`${argv[0]} ${argv[1]}`] ? `${argv[0]} ${argv[1]}` : argv[0];
  const command = commands[name];
  if (!command) {
    const group = Object.keys(commands).filter((known) => known.startsWith(`${argv[0]} `));
    console.error(`folio: unknown command "${argv.slice(0, 2).join(' ')}"${group.length > 0 ? `; try: ${group.join(', ')}` : ''}\n\n${helpText()}`);
    return 2;
  }
  const args = argv.slice(name.split(' ').length);
  if (args.some(isHelp)) {
    console.log(`usage: npm run folio -- ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: command.options ?? {}, allowPositionals: true, strict: true });
  } catch (error) {
    return usageError(name, (error as Error).message);
  }
  const wanted = command.positionals ?? [];
  if (parsed.positionals.length !== wanted.length) return usageError(name, wanted.length === 0 ? 'takes no arguments' : `needs ${wanted.join(' ')}`);
  const envFile = loadEnvFile();
  const config = loadConfig();
  const open = async () => {
    console.error(`folio: using ${describeDatabase(config)}${envFile ? ` (settings from ${envFile})` : ''}`);
    return openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  };
  return command.run({ values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals, config, open });
}

// Run only as a program, not when a test imports helpText/runCli.
if (process.argv[1] && /cli\.(ts|js)$/.test(process.argv[1])) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      const message = error instanceof AppError ? `${error.problemType}: ${error.message}` : (error as Error).message;
      console.error(`folio: ${message}`);
      process.exit(1);
    },
  );
}
