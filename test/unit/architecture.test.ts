import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import madge from 'madge';

/**
 * The dependency rules of docs/architecture.md, checked over the import graph of a source tree:
 * no import cycle (type-only imports count: they tie the files together as much for the reader),
 * `modules/` never imports `http/` (the composition root), `core/` imports neither.
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
      if (file.startsWith('modules/') && imported.startsWith('http/')) forbidden.push(`${file} -> ${imported}`);
      if (file.startsWith('core/') && (imported.startsWith('http/') || imported.startsWith('modules/'))) forbidden.push(`${file} -> ${imported}`);
    }
  }
  return { cycles: result.circular(), forbidden, unresolved: result.warnings().skipped };
}

describe('architecture: the import graph of src/', () => {
  test('has no import cycle, no module importing http/, no core importing http/ or modules/', async () => {
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
      const { cycles, forbidden, unresolved } = await architectureViolations(fixture);
      assert.deepEqual(unresolved, []);
      assert.deepEqual(cycles, [['modules/a/b.ts', 'modules/a/c.ts']]);
      assert.deepEqual(forbidden.sort(), ['core/paging.ts -> http/context.ts', 'modules/a/routes.ts -> http/context.ts']);
    });
  });
});
