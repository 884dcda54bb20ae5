import type { Db } from '../../db/database.js';
import { randomToken } from '../../shared/ids.js';
import { isScope, type AuthContext } from '../../core/auth.js';
import { hashApiKey } from './service.js';

/**
 * Short-lived bearer tokens for dialects whose clients first exchange credentials for a token
 * (Procountor's OAuth client-credentials call with a Folio API key). A token acts as the key it
 * was issued for: same tenant, same scopes, same actor in the history; it stops working when it
 * expires or when the key is revoked. Stored hashed, like keys.
 */
const tokenPrefix = 'folio_at_';
export const accessTokenTtlSeconds = 3600;

export async function issueAccessToken(db: Db, auth: AuthContext, ttlSeconds = accessTokenTtlSeconds): Promise<{ token: string; expiresInSeconds: number }> {
  const token = tokenPrefix + randomToken(40);
  const now = Date.now();
  // Expired tokens are dropped as new ones are issued, so the table stays small without a timer.
  await db.deleteFrom('access_tokens').where('expires_at', '<', new Date(now).toISOString()).execute();
  await db
    .insertInto('access_tokens')
    .values({ token_hash: hashApiKey(token), tenant_id: auth.tenantId, key_id: auth.keyId, expires_at: new Date(now + ttlSeconds * 1000).toISOString() })
    .execute();
  return { token, expiresInSeconds: ttlSeconds };
}

/** The caller a live token stands for, or null (unknown, expired, or its key revoked). */
export async function authenticateAccessToken(db: Db, token: string): Promise<AuthContext | null> {
  if (!token.startsWith(tokenPrefix) || token.length > 100) return null;
  const row = await db
    .selectFrom('access_tokens')
    .innerJoin('api_keys', (join) => join.onRef('api_keys.id', '=', 'access_tokens.key_id').onRef('api_keys.tenant_id', '=', 'access_tokens.tenant_id'))
    .select(['api_keys.tenant_id', 'api_keys.id', 'api_keys.scopes', 'access_tokens.expires_at'])
    .where('access_tokens.token_hash', '=', hashApiKey(token))
    .where('api_keys.revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row || row.expires_at <= new Date().toISOString()) return null;
  return { tenantId: row.tenant_id, keyId: row.id, scopes: new Set(row.scopes.split(',').filter(isScope)) };
}
