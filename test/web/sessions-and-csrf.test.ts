import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { createUserService } from '../../src/modules/users/service.js';
import { startTestApp, type TestApp } from '../helpers/harness.js';

/**
 * The web app's sessions and forms over HTTP (no browser needed): CSRF, tenant sealing, roles,
 * cookie flags, session rotation and sign-out, lock-out after wrong passwords, safe redirects.
 */
let t: TestApp;
const password = 'correct horse battery staple';

before(async () => {
  t = await startTestApp({ FOLIO_WEB_MAX_FAILED_SIGN_INS: '3', FOLIO_WEB_SECURE_COOKIES: 'true', FOLIO_WEBHOOK_DISPATCHER: 'off', FOLIO_WEBHOOKS_ALLOW_PRIVATE: 'true' });
  const users = createUserService(t.database.db);
  for (const [tenant, email, role] of [['acme', 'ann@acme.test', 'editor'], ['acme', 'vic@acme.test', 'viewer'], ['globex', 'gil@globex.test', 'admin'], ['acme', 'lou@acme.test', 'editor']]) {
    await t.key(tenant);
    await users.create({ tenantName: tenant, email, role, password });
  }
});

after(async () => {
  await t?.close();
});

const cookiesOf = (setCookie: string | string[] | undefined) => (Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []);
const cookieValue = (setCookie: string | string[] | undefined, name: string) =>
  cookiesOf(setCookie).find((cookie) => cookie.startsWith(`${name}=`))?.split(';')[0].slice(name.length + 1);

async function signIn(tenant: string, email: string, secret = password, next = '/invoices') {
  const form = await t.app.inject({ method: 'GET', url: '/sign-in' });
  const token = cookieValue(form.headers['set-cookie'], 'folio_signin_csrf')!;
  assert.ok(form.body.includes(`value="${token}"`));
  return t.app.inject({
    method: 'POST',
    url: '/sign-in',
    headers: { cookie: `folio_signin_csrf=${token}`, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: token, tenant, email, password: secret, next }).toString(),
  });
}

async function session(tenant: string, email: string) {
  const reply = await signIn(tenant, email);
  assert.equal(reply.statusCode, 303, reply.body.slice(0, 300));
  const cookie = `folio_session=${cookieValue(reply.headers['set-cookie'], 'folio_session')}`;
  const page = await t.app.inject({ method: 'GET', url: '/invoices', headers: { cookie } });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1];
  // A list value is sent as repeated fields, as a form's checkboxes are.
  const post = (url: string, fields: Record<string, string | string[]>) =>
    t.app.inject({ method: 'POST', url, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(Object.entries(fields).flatMap(([name, value]) => [value].flat().map((item) => [name, item]))).toString() });
  return { cookie, csrf, post, get: (url: string) => t.app.inject({ method: 'GET', url, headers: { cookie } }) };
}

test('the session cookie is HttpOnly, SameSite=Lax and Secure (setting), and a new one is issued at every sign-in', async () => {
  const first = await signIn('acme', 'ann@acme.test');
  const second = await signIn('acme', 'ann@acme.test');
  const raw = cookiesOf(first.headers['set-cookie']).find((cookie) => cookie.startsWith('folio_session='))!;
  assert.match(raw, /HttpOnly/);
  assert.match(raw, /SameSite=Lax/);
  assert.match(raw, /Secure/);
  assert.notEqual(cookieValue(first.headers['set-cookie'], 'folio_session'), cookieValue(second.headers['set-cookie'], 'folio_session'));
});

test('signing in again from a browser that holds a session replaces it: the old cookie stops working', async () => {
  const old = await session('acme', 'ann@acme.test');
  const form = await t.app.inject({ method: 'GET', url: '/sign-in' });
  const token = cookieValue(form.headers['set-cookie'], 'folio_signin_csrf')!;
  const again = await t.app.inject({
    method: 'POST',
    url: '/sign-in',
    headers: { cookie: `${old.cookie}; folio_signin_csrf=${token}`, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: token, tenant: 'acme', email: 'ann@acme.test', password }).toString(),
  });
  assert.equal(again.statusCode, 303);
  const fresh = `folio_session=${cookieValue(again.headers['set-cookie'], 'folio_session')}`;
  assert.notEqual(fresh, old.cookie);
  assert.equal((await old.get('/invoices')).statusCode, 302, 'the replaced session is gone on the server');
  assert.equal((await t.app.inject({ method: 'GET', url: '/invoices', headers: { cookie: fresh } })).statusCode, 200);
});

test('a form post without the CSRF token, or with another session\'s token, is refused and changes nothing', async () => {
  const ann = await session('acme', 'ann@acme.test');
  const lou = await session('acme', 'lou@acme.test');
  const without = await ann.post('/customers/new', { name: 'No token Ltd' });
  assert.equal(without.statusCode, 403);
  assert.match(without.body, /security token/);
  const foreign = await ann.post('/customers/new', { name: 'Wrong token Ltd', _csrf: lou.csrf });
  assert.equal(foreign.statusCode, 403);
  const customers = await t.database.db.selectFrom('customers').select('name').execute();
  assert.deepEqual(customers, []);
  const ok = await ann.post('/customers/new', { name: 'Token Ltd', _csrf: ann.csrf });
  assert.equal(ok.statusCode, 303);
});

test('another tenant\'s invoice is a 404 page, for reading and for actions', async () => {
  const key = await t.key('acme');
  const created = await t.client(key).post('/v1/invoices', { lines: [{ description: 'Acme work', quantity: '1', unit_price: '10' }] });
  const gil = await session('globex', 'gil@globex.test');
  for (const url of [`/invoices/${created.body.id}`, `/invoices/${created.body.id}/edit`]) {
    const reply = await gil.get(url);
    assert.equal(reply.statusCode, 404, url);
    assert.doesNotMatch(reply.body, /Acme work/);
  }
  const finalize = await gil.post(`/invoices/${created.body.id}/finalize`, { _csrf: gil.csrf });
  assert.equal(finalize.statusCode, 404);
  assert.equal((await t.client(key).get(`/v1/invoices/${created.body.id}`)).body.status, 'draft');
});

test('a viewer reads but cannot change; an editor cannot open the settings', async () => {
  const key = await t.key('acme');
  const created = await t.client(key).post('/v1/invoices', { lines: [{ description: 'Viewer sees', quantity: '1', unit_price: '10' }] });
  const vic = await session('acme', 'vic@acme.test');
  const page = await vic.get(`/invoices/${created.body.id}`);
  assert.equal(page.statusCode, 200);
  assert.doesNotMatch(page.body, /Finalize/);
  assert.equal((await vic.post(`/invoices/${created.body.id}/finalize`, { _csrf: vic.csrf })).statusCode, 403);
  const ann = await session('acme', 'ann@acme.test');
  assert.equal((await ann.get('/settings')).statusCode, 403);
});

test('every change made in the browser is audited with the user as actor', async () => {
  const ann = await session('acme', 'ann@acme.test');
  const reply = await ann.post('/invoices/new', { _csrf: ann.csrf, currency: 'EUR', line_id: '', line_parent_line_id: '', line_description: 'Audited', line_quantity: '2', line_unit: '', line_unit_price: '5', line_discount_type: '', line_discount_value: '', line_tax_rate: '', reason: 'first draft' });
  assert.equal(reply.statusCode, 303);
  const id = /\/invoices\/(inv_\w+)/.exec(reply.headers.location as string)![1];
  const user = await t.database.db.selectFrom('users').select('id').where('email', '=', 'ann@acme.test').executeTakeFirstOrThrow();
  const audit = await t.database.db.selectFrom('audit_events').selectAll().where('invoice_id', '=', id).execute();
  assert.equal(audit.length, 1);
  assert.equal(audit[0].actor_key_id, user.id);
  assert.match(user.id, /^usr_/);
  assert.equal(audit[0].reason, 'first draft');
});

test('security headers on every page: CSP without inline scripts, no framing', async () => {
  const reply = await t.app.inject({ method: 'GET', url: '/sign-in' });
  const csp = String(reply.headers['content-security-policy']);
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(reply.headers['x-frame-options'], 'DENY');
  assert.doesNotMatch(reply.body, /<script>|<script [^>]*>[^<]/, 'no inline script in the page');
});

test('sign-out ends the session on the server', async () => {
  const ann = await session('acme', 'ann@acme.test');
  const out = await ann.post('/sign-out', { _csrf: ann.csrf });
  assert.equal(out.statusCode, 303);
  const after = await ann.get('/invoices');
  assert.equal(after.statusCode, 302);
  assert.match(String(after.headers.location), /^\/sign-in/);
});

test('after repeated wrong passwords sign-in is locked, even with the right password', async () => {
  for (let attempt = 0; attempt < 3; attempt++) {
    const wrong = await signIn('acme', 'lou@acme.test', 'not the password');
    assert.equal(wrong.statusCode, 401);
    assert.match(wrong.body, /not right/);
  }
  const locked = await signIn('acme', 'lou@acme.test');
  assert.equal(locked.statusCode, 429);
  assert.match(locked.body, /paused/);
  assert.equal(cookieValue(locked.headers['set-cookie'], 'folio_session'), undefined);
});

test('wrong-password records older than the lock-out window are pruned (guesses at made-up emails do not pile up)', async () => {
  const tenant = await t.database.db.selectFrom('tenants').select('id').where('name', '=', 'acme').executeTakeFirstOrThrow();
  const old = new Date(Date.now() - 16 * 60_000).toISOString();
  await t.database.db.insertInto('login_failures').values([{ tenant_id: tenant.id, email: 'nobody-1@acme.test', failed_at: old }, { tenant_id: tenant.id, email: 'nobody-2@acme.test', failed_at: old }]).execute();
  assert.equal((await signIn('acme', 'nobody-3@acme.test', 'wrong wrong wrong')).statusCode, 401);
  const left = await t.database.db.selectFrom('login_failures').select('email').where('tenant_id', '=', tenant.id).where('email', 'like', 'nobody-%').execute();
  assert.deepEqual(left.map((row) => row.email), ['nobody-3@acme.test']);
});

test('sign-in only returns to a path on this site', async () => {
  const reply = await signIn('acme', 'ann@acme.test', password, '//evil.example/steal');
  assert.equal(reply.statusCode, 303);
  assert.equal(reply.headers.location, '/invoices');
  const inside = await signIn('acme', 'ann@acme.test', password, '/customers');
  assert.equal(inside.headers.location, '/customers');
});

test('an admin creates an API key (shown once), revokes it, and adds and removes a webhook endpoint', async () => {
  const gil = await session('globex', 'gil@globex.test');
  const created = await gil.post('/settings/keys', { _csrf: gil.csrf, scopes: 'invoices:read' });
  assert.equal(created.statusCode, 200);
  const key = /<code>(folio_sk_\w+)<\/code>/.exec(created.body)![1];
  const keyId = /API key (key_\w+) created/.exec(created.body)![1];
  assert.equal((await t.client(key).get('/v1/invoices')).status, 200);
  const revoked = await gil.post(`/settings/keys/${keyId}/revoke`, { _csrf: gil.csrf });
  assert.match(revoked.body, /revoked/);
  const otherTenantsKey = await t.database.db.selectFrom('api_keys').innerJoin('tenants', 'tenants.id', 'api_keys.tenant_id').select('api_keys.id').where('tenants.name', '=', 'acme').executeTakeFirstOrThrow();
  const refused = await gil.post(`/settings/keys/${otherTenantsKey.id}/revoke`, { _csrf: gil.csrf });
  assert.equal(refused.statusCode, 404);

  const hook = await gil.post('/settings/webhooks', { _csrf: gil.csrf, url: 'http://127.0.0.1:9/folio', events: 'invoice.*' });
  assert.match(hook.body, /whsec_/);
  const endpointId = /Webhook endpoint (whe_\w+) added/.exec(hook.body)![1];
  const removed = await gil.post(`/settings/webhooks/${endpointId}/remove`, { _csrf: gil.csrf });
  assert.match(removed.body, /removed/);
});

test('actions from the invoice page: finalize, pay, refund, credit note, revise; a stale page is refused', async () => {
  const key = await t.key('acme');
  const api = t.client(key);
  const created = await api.post('/v1/invoices', { lines: [{ description: 'Work', quantity: '1', unit_price: '100' }] });
  const id = created.body.id as string;
  const ann = await session('acme', 'ann@acme.test');
  const expectNotice = async (reply: Awaited<ReturnType<typeof ann.post>>, notice: string) => {
    assert.equal(reply.statusCode, 303, /role="alert">([^<]*)/.exec(reply.body)?.[1]);
    assert.match(String(reply.headers.location), new RegExp(`notice=${notice}$`));
  };
  await expectNotice(await ann.post(`/invoices/${id}/finalize`, { _csrf: ann.csrf, version: '1', reason: 'sent to customer' }), 'finalized');
  const stale = await ann.post(`/invoices/${id}/void`, { _csrf: ann.csrf, version: '1' });
  assert.equal(stale.statusCode, 412);
  assert.match(stale.body, /changed since this page was loaded/);
  await expectNotice(await ann.post(`/invoices/${id}/payments`, { _csrf: ann.csrf, version: '2', amount: '40', date: '2026-11-30', method: 'card' }), 'payment');
  const paymentId = (await api.get(`/v1/invoices/${id}/payments`)).body.data[0].id;
  await expectNotice(await ann.post(`/invoices/${id}/payments/${paymentId}/refund`, { _csrf: ann.csrf, version: '3', amount: '10', reason: 'goodwill' }), 'refund');
  await expectNotice(await ann.post(`/invoices/${id}/credit-notes`, { _csrf: ann.csrf, version: '4', amount: '5', reason: 'late delivery' }), 'credited');
  const refused = await ann.post(`/invoices/${id}/void`, { _csrf: ann.csrf, version: '5' });
  assert.equal(refused.statusCode, 422);
  assert.match(refused.body, /refund them before voiding/);
  const invoice = (await api.get(`/v1/invoices/${id}`)).body;
  assert.equal(invoice.amount_paid, '30.00');
  const history = (await api.get(`/v1/invoices/${id}/history`)).body.data.map((entry: { action: string; reason: string | null }) => `${entry.action}:${entry.reason ?? ''}`);
  assert.deepEqual(history, ['create:', 'finalize:sent to customer', 'payment:', 'refund:goodwill', 'credit:late delivery']);

  // Revise: a credit note for the original and a new draft, where the page goes next.
  const other = (await api.post('/v1/invoices', { lines: [{ description: 'Other', quantity: '1', unit_price: '50' }] })).body.id as string;
  await api.post(`/v1/invoices/${other}/finalize`, {});
  const revised = await ann.post(`/invoices/${other}/revise`, { _csrf: ann.csrf, version: '2', reason: 'wrong price' });
  assert.equal(revised.statusCode, 303, /role="alert">([^<]*)/.exec(revised.body)?.[1]);
  assert.match(String(revised.headers.location), /^\/invoices\/inv_\w+\?notice=revised$/);
  assert.doesNotMatch(String(revised.headers.location), new RegExp(other));
  assert.ok((await api.get(`/v1/invoices/${other}`)).body.revised_by);

  // Void: an open invoice without payments, with the reason in the history.
  const third = (await api.post('/v1/invoices', { lines: [{ description: 'Mistake', quantity: '1', unit_price: '9' }] })).body.id as string;
  await expectNotice(await ann.post(`/invoices/${third}/finalize`, { _csrf: ann.csrf, version: '1' }), 'finalized');
  await expectNotice(await ann.post(`/invoices/${third}/void`, { _csrf: ann.csrf, version: '2', reason: 'sent to the wrong customer' }), 'voided');
  const voided = (await api.get(`/v1/invoices/${third}/history`)).body.data.at(-1);
  assert.deepEqual([voided.action, voided.reason], ['void', 'sent to the wrong customer']);
  assert.equal((await api.get(`/v1/invoices/${third}`)).body.status, 'void');
  const page = (await ann.get(`/invoices/${third}`)).body;
  assert.doesNotMatch(page, /href="\/invoices\/inv_\w+\/edit"/, 'a void invoice offers no edit');
  assert.match(page, /Voided<\/strong> by ann@acme\.test/);
  // Even the internal note is read-only now, and the editor says why.
  const editor = (await ann.get(`/invoices/${third}/edit`)).body;
  assert.match(editor, /<textarea id="h-internal_note" name="internal_note" rows="2" readonly aria-describedby="why-internal_note">/);
  assert.match(editor, /<p class="why" id="why-internal_note">[^<]*void[^<]*<\/p>/);
});

test('settings changes, API keys and webhook endpoints leave an audit trail with the person (or key) as actor', async () => {
  const gil = await session('globex', 'gil@globex.test');
  const user = await t.database.db.selectFrom('users').select(['id', 'tenant_id']).where('email', '=', 'gil@globex.test').executeTakeFirstOrThrow();
  const before = await t.database.db.selectFrom('admin_events').select('seq').where('tenant_id', '=', user.tenant_id).execute();
  assert.match((await gil.post('/settings', { _csrf: gil.csrf, edit_policy: 'draft_only', invoice_number_prefix: 'GX-' })).body, /Settings saved/);
  // Saving the same values again changes nothing, so it records nothing.
  await gil.post('/settings', { _csrf: gil.csrf, edit_policy: 'draft_only', invoice_number_prefix: 'GX-' });
  const created = await gil.post('/settings/keys', { _csrf: gil.csrf, scopes: ['invoices:read', 'admin'] });
  const keyId = /API key (key_\w+) created/.exec(created.body)![1];
  const key = /<code>(folio_sk_\w+)<\/code>/.exec(created.body)![1];
  // The new admin key changes a setting through the API: the key is the actor.
  assert.equal((await t.client(key).patch('/v1/tenant/settings', { invoice_number_prefix: 'GLX-', document_seller: { name: 'Globex Ltd' } })).status, 200);
  await gil.post(`/settings/keys/${keyId}/revoke`, { _csrf: gil.csrf });
  const hook = await gil.post('/settings/webhooks', { _csrf: gil.csrf, url: 'http://127.0.0.1:9/audit', events: 'invoice.*' });
  const endpointId = /Webhook endpoint (whe_\w+) added/.exec(hook.body)![1];
  const operatorKey = await t.key('globex', ['admin']);
  const operatorKeyId = (await t.database.db.selectFrom('api_keys').select('id').orderBy('created_at', 'desc').executeTakeFirstOrThrow()).id;
  assert.equal((await t.client(operatorKey).patch(`/v1/webhook-endpoints/${endpointId}`, { description: 'audit hook', enabled: false })).status, 200);
  await gil.post(`/settings/webhooks/${endpointId}/remove`, { _csrf: gil.csrf });

  const events = await t.database.db.selectFrom('admin_events').selectAll().where('tenant_id', '=', user.tenant_id).orderBy('seq').execute();
  const fresh = events.slice(before.length);
  assert.deepEqual(fresh.map((event) => [event.action, event.actor_key_id]), [
    ['settings.update', user.id],
    ['api_key.create', user.id],
    ['settings.update', keyId],
    ['settings.update', keyId],
    ['api_key.revoke', user.id],
    ['webhook_endpoint.create', user.id],
    ['webhook_endpoint.update', operatorKeyId],
    ['webhook_endpoint.remove', user.id],
  ]);
  assert.deepEqual(JSON.parse(fresh[2].changes), [{ path: '/document_seller/name', from: null, to: 'Globex Ltd' }]);
  assert.deepEqual(JSON.parse(fresh[6].changes), [
    { path: '/description', from: null, to: 'audit hook' },
    { path: '/enabled', from: true, to: false },
  ]);
  assert.deepEqual(JSON.parse(fresh[0].changes), [
    { path: '/edit_policy', from: 'until_paid', to: 'draft_only' },
    { path: '/invoice_number_prefix', from: 'INV-', to: 'GX-' },
  ]);
  assert.ok(fresh.every((event) => event.request_id), 'each event names its request');
  assert.doesNotMatch(JSON.stringify(fresh), /whsec_|folio_sk_/, 'no secret in the trail');
  // Append-only, like the invoices' audit trail: the database itself refuses to rewrite it.
  await assert.rejects(t.database.db.updateTable('admin_events').set({ action: 'x' }).where('id', '=', fresh[0].id).execute(), /append-only/);
  await assert.rejects(t.database.db.deleteFrom('admin_events').where('id', '=', fresh[0].id).execute(), /append-only/);

  // The settings page tells the story, newest first, with who did it.
  const page = (await gil.get('/settings')).body;
  const trail = page.slice(page.indexOf('Recent changes'));
  const order = [
    /removed webhook endpoint http:\/\/127\.0\.0\.1:9\/audit<\/p><p class="muted">by gil@globex\.test/,
    new RegExp(`webhook endpoint ${endpointId}: description \\(empty\\) → &#39;audit hook&#39;; enabled true → false</p><p class="muted">by API key ${operatorKeyId}`),
    /added webhook endpoint http:\/\/127\.0\.0\.1:9\/audit \(events invoice\.\*\)/,
    new RegExp(`revoked API key ${keyId}</p><p class="muted">by gil@globex\\.test`),
    new RegExp(`invoice number prefix &#39;GX-&#39; → &#39;GLX-&#39;</p><p class="muted">by API key ${keyId}`),
    new RegExp(`document seller name \\(empty\\) → &#39;Globex Ltd&#39;</p><p class="muted">by API key ${keyId}`),
    new RegExp(`created API key ${keyId} \\(scopes invoices:read, admin\\)`),
    /edit policy &#39;until_paid&#39; → &#39;draft_only&#39;; invoice number prefix &#39;INV-&#39; → &#39;GX-&#39;<\/p><p class="muted">by gil@globex\.test/,
  ];
  let at = 0;
  for (const sentence of order) {
    const found = sentence.exec(trail.slice(at));
    assert.ok(found, `${sentence} after position ${at} of the trail`);
    at += found.index + found[0].length;
  }
});

test('`npm run folio -- users create` takes the password from stdin; a short password or a missing role is refused', () => {
  const env = { ...process.env, FOLIO_DATA_DIR: t.testDb.dataDir, DATABASE_URL: t.testDb.databaseUrl ?? '', FOLIO_LOG_LEVEL: 'silent' };
  if (!t.testDb.databaseUrl) delete (env as Record<string, string | undefined>).DATABASE_URL;
  const run = (args: string[], input: string) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'users', 'create', ...args], { env, input, encoding: 'utf8', timeout: 60_000 });
  const created = run(['--tenant', 'acme', '--email', 'Cli.Person@Acme.test', '--role', 'viewer'], 'a long enough secret\n');
  assert.equal(created.status, 0, created.stderr);
  assert.match(created.stdout, /user usr_\w+ cli\.person@acme\.test role viewer tenant /);
  assert.doesNotMatch(created.stdout + created.stderr, /a long enough secret/, 'the password is never echoed');
  const short = run(['--tenant', 'acme', '--email', 'short@acme.test', '--role', 'viewer'], 'short\n');
  assert.notEqual(short.status, 0);
  assert.match(short.stderr, /10 to 200 characters/);
  const missing = run(['--tenant', 'acme', '--email', 'norole@acme.test'], 'a long enough secret\n');
  assert.equal(missing.status, 2);
});

test('on a terminal, `users create` prompts for the password and does not echo it', { skip: !fs.existsSync('/usr/bin/script') && 'needs script(1) for a pseudo-terminal' }, async () => {
  const env = { ...process.env, FOLIO_DATA_DIR: t.testDb.dataDir, FOLIO_LOG_LEVEL: 'silent' } as Record<string, string | undefined>;
  if (t.testDb.databaseUrl) env.DATABASE_URL = t.testDb.databaseUrl;
  else delete env.DATABASE_URL;
  // script(1) runs the CLI on a pseudo-terminal: stdin is a TTY, as when a person types.
  const child = spawn('/usr/bin/script', ['-qec', `${process.execPath} --import tsx src/cli.ts users create --tenant acme --email tty.person@acme.test --role editor`, '/dev/null'], { env });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.includes('Password: ') && !child.stdin.writableEnded) child.stdin.end('typed at the prompt 42\n');
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, output);
  assert.match(output, /user usr_\w+ tty\.person@acme\.test role editor/);
  assert.doesNotMatch(output, /typed at the prompt/, 'the password is not echoed');
  assert.equal((await signIn('acme', 'tty.person@acme.test', 'typed at the prompt 42')).statusCode, 303);
});

test('the person created by the CLI signs in with the password given on stdin; the hash is argon2id', async () => {
  const stored = await t.database.db.selectFrom('users').select(['password_hash', 'role']).where('email', '=', 'cli.person@acme.test').executeTakeFirstOrThrow();
  assert.match(stored.password_hash, /^\$argon2id\$/);
  assert.equal(stored.role, 'viewer');
  assert.equal((await signIn('acme', 'cli.person@acme.test', 'a long enough secret')).statusCode, 303);
  assert.equal((await t.database.db.selectFrom('users').select('id').where('email', '=', 'short@acme.test').execute()).length, 0);
});
