import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';

/**
 * Records what the process sends to its databases by tracing the drivers themselves, below Kysely:
 * every `pg.Client#query` (one round trip each: BEGIN and COMMIT included) and every run of a
 * better-sqlite3 statement (cached or not) or `exec`.
 */
export interface Traced {
  text: string;
  /** The prepared statement's name on PostgreSQL (undefined = unnamed: parsed and planned each time). */
  name?: string;
}

let traced: Traced[] | null = null;

/** Installs the trace (it records only inside `trace`); returns the function that removes it. */
export function installDriverTrace(): () => void {
  const restore: (() => void)[] = [];
  /** Wraps `target[method]` so that every call is recorded (what `describe` makes of it) before it runs. */
  const patch = (target: Record<string, unknown>, method: string, describe: (self: any, args: unknown[]) => Traced) => {
    const original = target[method] as (...args: unknown[]) => unknown;
    target[method] = function (this: unknown, ...args: unknown[]) {
      traced?.push(describe(this, args));
      return original.apply(this, args);
    };
    restore.push(() => {
      target[method] = original;
    });
  };
  patch(pg.Client.prototype as unknown as Record<string, unknown>, 'query', (_self, args) => {
    const config = args[0] as string | { text: string; name?: string };
    return typeof config === 'string' ? { text: config } : { text: config.text, name: config.name };
  });
  const probe = new SqliteDatabase(':memory:');
  const statementPrototype = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, unknown>;
  probe.close();
  for (const method of ['run', 'get', 'all', 'iterate']) patch(statementPrototype, method, (self: { source: string }) => ({ text: self.source }));
  patch(SqliteDatabase.prototype as unknown as Record<string, unknown>, 'exec', (_self, args) => ({ text: String(args[0]) }));
  return () => {
    for (const undo of restore) undo();
  };
}

/** The statements sent while `work` ran. */
export async function trace(work: () => Promise<unknown>): Promise<Traced[]> {
  traced = [];
  try {
    await work();
    return traced;
  } finally {
    traced = null;
  }
}

export const isCommit = (text: string) => /^\s*commit\b/i.test(text);
export const isBegin = (text: string) => /^\s*begin\b/i.test(text);
export const describeAll = (statements: Traced[]) => statements.map((statement, index) => `${index + 1}. ${statement.name ? `[${statement.name}] ` : ''}${statement.text.replace(/\s+/g, ' ').slice(0, 90)}`).join('\n');
