import { createHash } from 'node:crypto';
import type { Db } from '../../db/database.js';
import type { ApiKeysTable } from '../../db/schema.js';
import { newId, randomToken } from '../../shared/ids.js';
import { isCurrencyCode } from '../../shared/money.js';
import { systemClock, type Clock } from '../../shared/time.js';
import { isScope, type AuthContext, type Scope } from '../../core/auth.js';
import { tenantStore } from './store.js';

export const apiKeyPrefix = 'folio_sk_';

/** Keys carry 200 random bits, so a fast hash is enough to store them safely (no brute force). */
export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex');

/** A new key and the row that stores it (the key itself is never stored, only its hash). */
export function mintApiKey(tenantId: string, scopes: string[], createdAt: string): { row: ApiKeysTable; key: string } {
  const key = apiKeyPrefix + randomToken(40);
  const row: ApiKeysTable = {
    tenant_id: tenantId,
    id: newId('key'),
    key_hash: hashApiKey(key),
    key_prefix: key.slice(0, apiKeyPrefix.length + 4),
    scopes: scopes.join(','),
    created_at: createdAt,
    revoked_at: null,
  };
  return { row, key };
}

export interface CreatedKey {
  tenantId: string;
  keyId: string;
  key: string;
  scopes: Scope[];
}

export async function createApiKey(
  db: Db,
  input: { tenantName: string; scopes: string[]; baseCurrency?: string },
  clock: Clock = systemClock,
): Promise<CreatedKey> {
  const scopes = input.scopes.map((scope) => scope.trim()).filter(Boolean);
  const unknown = scopes.filter((scope) => !isScope(scope));
  if (unknown.length > 0) throw new Error(`Unknown scope(s): ${unknown.join(', ')}`);
  if (scopes.length === 0) throw new Error('At least one scope is required.');
  const baseCurrency = input.baseCurrency ?? 'EUR';
  if (!isCurrencyCode(baseCurrency)) throw new Error(`Unknown currency: ${baseCurrency}`);

  return db.transaction().execute(async (tx) => {
    let tenant = await tenantStore.findByName(tx, input.tenantName);
    if (!tenant) {
      tenant = { id: newId('ten'), name: input.tenantName, base_currency: baseCurrency, edit_policy: 'until_paid', invoice_number_prefix: 'INV-', created_at: clock.nowIso() };
      await tenantStore.insert(tx, tenant);
    }
    const { row, key } = mintApiKey(tenant.id, scopes, clock.nowIso());
    await tenantStore.insertKey(tx, row);
    const keyId = row.id;
    return { tenantId: tenant.id, keyId, key, scopes: scopes as Scope[] };
  });
}

/**
 * Resolves a bearer key to its tenant and scopes. A short cache keeps the hot path to one
 * hash; revoking a key therefore takes effect within `cacheTtlMs`.
 */
export function createAuthenticator(db: Db, cacheTtlMs = 5_000) {
  const cache = new Map<string, { context: AuthContext | null; expiresAtMs: number }>();
  return async function authenticate(key: string): Promise<AuthContext | null> {
    if (!key.startsWith(apiKeyPrefix) || key.length > 100) return null;
    const keyHash = hashApiKey(key);
    const cached = cache.get(keyHash);
    if (cached && cached.expiresAtMs > Date.now()) return cached.context;
    const row = await tenantStore.findActiveKeyByHash(db, keyHash);
    const context: AuthContext | null = row
      ? { tenantId: row.tenant_id, keyId: row.id, scopes: new Set(row.scopes.split(',').filter(isScope)) }
      : null;
    if (cache.size > 10_000) cache.clear();
    cache.set(keyHash, { context, expiresAtMs: Date.now() + cacheTtlMs });
    return context;
  };
}
