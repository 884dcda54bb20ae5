import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import madge from 'madge';

/**
 * The dependency rules of docs/architecture.md, checked over the import graph of a source tree:
 * no import cycle (type-only imports count: they tie the files together as much for the reader),
 * `modules/` (route modules included) never imports `http/` (the composition root), `web/` or
 * `dialects/` (the adapters above it); `core/` imports none of these nor `modules/`.
 */
async function architectureViolations(root: string): Promise<{ cycles: string[][]; forbidden: string[]; unresolved: string[] }> {
  const result = await madge(root, {
    fileExtensions: ['ts'],
    tsConfig: path.resolve('tsconfig.json'),
    // skipTypeImports false: `import type` and `import { type X }` are edges of the graph too.
    detectiveOptions: { ts: { skipTypeImports: false }, es6: { skipTypeImports: false } },
  });
  const forbidden: string[] = [];
  for (const [file, imports] of Object.entries(result.obj())) {
    for (const imported of imports) {
      const into = (...layers: string[]) => layers.some((layer) => imported.startsWith(`${layer}/`));
      if (file.startsWith('modules/') && into('http', 'web', 'dialects')) forbidden.push(`${file} -> ${imported}`);
      if (file.startsWith('core/') && into('http', 'web', 'dialects', 'modules')) forbidden.push(`${file} -> ${imported}`);
      // The outbox and the Idempotency-Key hooks sit below every resource: webhook fan-out and
      // replay renderers are injected at composition (onEventAppended, registerReplayRenderer).
      const foundation = ['modules/events/', 'modules/idempotency/'].find((dir) => file.startsWith(dir));
      if (foundation && imported.startsWith('modules/') && !imported.startsWith(foundation)) forbidden.push(`${file} -> ${imported}`);
    }
  }
  return { cycles: result.circular(), forbidden, unresolved: result.warnings().skipped };
}

/** `x as unknown as T` in source code (comments aside): a cast that checks nothing. */
function launderingCasts(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (full.endsWith('.ts')) {
        fs.readFileSync(full, 'utf8').split('\n').forEach((line, index) => {
          const code = line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '');
          if (/\bas\s+unknown\s+as\b/.test(code)) found.push(`${path.relative(root, full)}:${index + 1}`);
        });
      }
    }
  };
  walk(root);
  return found;
}

describe('types: no laundering casts in src/', () => {
  test('no `as unknown as` (type the value, or narrow it at one documented boundary)', () => {
    assert.deepEqual(launderingCasts('src'), []);
  });

  test('the check finds one and ignores comments', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-casts-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.ts'), "// as unknown as in a comment\n/**\n * as unknown as too\n */\nexport const a = 1 as unknown as string;\n");
      assert.deepEqual(launderingCasts(dir), ['a.ts:5']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('architecture: the import graph of src/', () => {
  test('has no import cycle, no module importing http/, web/ or dialects/, no core importing any of them or modules/, events/ and idempotency/ importing no other module', async () => {
    const { cycles, forbidden, unresolved } = await architectureViolations('src');
    assert.deepEqual(unresolved, [], 'every import resolves (an unresolved one would hide its edges)');
    assert.deepEqual(cycles, []);
    assert.deepEqual(forbidden, []);
  });

  test('the document renderers are pure and read side only: nothing they reach touches the database, a store, the write kernel or the clock', async () => {
    const graph = (await madge('src', { fileExtensions: ['ts'], tsConfig: path.resolve('tsconfig.json'), detectiveOptions: { ts: { skipTypeImports: false }, es6: { skipTypeImports: false } } })).obj();
    const reached = new Set<string>();
    const walk = (file: string) => {
      for (const next of graph[file] ?? []) {
        if (reached.has(next)) continue;
        reached.add(next);
        walk(next);
      }
    };
    // The renderers, and the mapping of an invoice version or a credit note to what they read.
    walk('modules/documents/render.ts');
    walk('modules/documents/source.ts');
    assert.ok(reached.has('modules/documents/pdf.ts') && reached.has('modules/documents/ubl.ts') && reached.has('modules/documents/finvoice.ts'));
    const impure = [...reached].filter((file) => file.startsWith('db/') || /(^|\/)(store|write-store|versioning|service)\.ts$/.test(file) || file === 'shared/time.ts');
    assert.deepEqual(impure, [], 'renderers reach only pure code');
    // The documents service reads; it never opens the write kernel (no version, no transaction of an invoice's).
    const service = graph['modules/documents/service.ts'] ?? [];
    assert.ok(service.length > 0);
    assert.deepEqual(service.filter((file) => /versioning\.ts$|write-store\.ts$/.test(file)), []);
  });

  describe('the check itself', () => {
    const fixture = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-architecture-'));
    after(() => fs.rmSync(fixture, { recursive: true, force: true }));
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(fixture, file)), { recursive: true });
      fs.writeFileSync(path.join(fixture, file), text);
    };

    test('finds a cycle made of type-only imports and the imports that break the layering', async () => {
      write('http/app.ts', "import { routes } from '../modules/a/routes.js';\nexport const app = routes;\n");
      write('modules/a/routes.ts', "import type { Ctx } from '../../http/context.js';\nimport { b } from './b.js';\nexport const routes = (ctx: Ctx) => b(ctx);\n");
      write('modules/a/b.ts', "import type { Routes } from './c.js';\nexport const b = (value: unknown) => value as Routes;\n");
      write('modules/a/c.ts', "import { type b } from './b.js';\nexport type Routes = typeof b;\n");
      write('http/context.ts', 'export interface Ctx { id: string }\n');
      write('core/paging.ts', "import type { Ctx } from '../http/context.js';\nexport type Page = Ctx[];\n");
      write('web/page.ts', 'export const page = 1;\n');
      write('dialects/x/translate.ts', 'export const x = 1;\n');
      write('modules/b/service.ts', "import { page } from '../../web/page.js';\nimport { x } from '../../dialects/x/translate.js';\nexport const b = page + x;\n");
      write('modules/webhooks/store.ts', 'export const enqueue = 1;\n');
      write('modules/events/store.ts', "import { enqueue } from '../webhooks/store.js';\nimport { feed } from './feed.js';\nexport const append = enqueue + feed;\n");
      write('modules/events/feed.ts', 'export const feed = 1;\n');
      write('modules/idempotency/hooks.ts', "import { b } from '../b/service.js';\nexport const hooks = b;\n");
      const { cycles, forbidden, unresolved } = await architectureViolations(fixture);
      assert.deepEqual(unresolved, []);
      assert.deepEqual(cycles, [['modules/a/b.ts', 'modules/a/c.ts']]);
      assert.deepEqual(forbidden.sort(), [
        'core/paging.ts -> http/context.ts',
        'modules/a/routes.ts -> http/context.ts',
        'modules/b/service.ts -> dialects/x/translate.ts',
        'modules/b/service.ts -> web/page.ts',
        'modules/events/store.ts -> modules/webhooks/store.ts',
        'modules/idempotency/hooks.ts -> modules/b/service.ts',
      ]);
    });
  });
});
