import { describeDatabase, loadConfig, loadEnvFile } from './config.js';
import { openDatabase } from './db/database.js';
import { buildApp } from './http/app.js';

const envFile = loadEnvFile();
const config = loadConfig();
const database = await openDatabase({
  dataDir: config.dataDir,
  databaseUrl: config.databaseUrl,
  poolSize: config.databasePoolSize,
  onPoolError: (error) => console.error(JSON.stringify({ level: 'warn', msg: 'database connection lost', err: error.message })),
});
const app = await buildApp({ config, database });

const shutdown = async (signal: string) => {
  app.log.info({ signal }, 'shutting down');
  await app.close();
  await database.close();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

const address = await app.listen({ port: config.port, host: config.host });
app.log.info({ engine: database.engine, dataDir: config.dataDir, envFile }, 'folio is listening');
// For the person who just typed `npm start`: where it is, what it uses, what to do next.
console.log(
  [
    `Folio is listening on ${address}  (API docs: ${address}/docs)`,
    `Database: ${describeDatabase(config)}${envFile ? `  (settings from ${envFile})` : ''}`,
    'Create an API key (the CLI reads the same settings): npm run folio -- keys create --tenant acme',
  ].join('\n'),
);
