import { loadConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { buildApp } from './http/app.js';

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

await app.listen({ port: config.port, host: config.host });
app.log.info({ engine: database.engine, dataDir: config.dataDir }, 'folio is listening');
