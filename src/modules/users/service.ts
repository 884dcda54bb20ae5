import { createHash, randomBytes } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import type { Db } from '../../db/database.js';
import { AppError } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { systemClock, type Clock } from '../../shared/time.js';
import type { AuthContext, Scope } from '../../core/auth.js';
import { tenantStore } from '../tenants/store.js';
import { userStore } from './store.js';

/** A person's role maps onto the API's scopes, so the web app and the API share one permission model. */
export const roles = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof roles)[number];
export const scopesOfRole: Record<Role, Scope[]> = {
  viewer: ['invoices:read'],
  editor: ['invoices:write'],
  admin: ['admin'],
};
export const isRole = (value: string): value is Role => (roles as readonly string[]).includes(value);

export const minPasswordLength = 10;
const maxPasswordLength = 200;

export interface LockoutPolicy {
  /** Wrong passwords allowed within `windowMs` before the account is locked for the rest of the window. */
  maxFailures: number;
  windowMs: number;
}
export const defaultLockout: LockoutPolicy = { maxFailures: 5, windowMs: 15 * 60_000 };

export interface SignedInUser {
  tenantId: string;
  userId: string;
  email: string;
  role: Role;
  csrfToken: string;
}

export type SignInResult =
  | { ok: true; sessionToken: string; user: SignedInUser }
  | { ok: false; reason: 'invalid' | 'locked'; retryAfterMs?: number };

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** The request context's auth for a signed-in person: the user id is the actor history shows. */
export function authOfUser(user: Pick<SignedInUser, 'tenantId' | 'userId' | 'role'>): AuthContext {
  return { tenantId: user.tenantId, keyId: user.userId, scopes: new Set(scopesOfRole[user.role]) };
}

// A hash of a random password, verified when the account does not exist, so that a wrong
// email costs as much time as a wrong password (no account enumeration by timing).
let dummyHash: Promise<string> | undefined;
function dummyPasswordHash(): Promise<string> {
  if (!dummyHash) dummyHash = argon2Hash(randomBytes(16).toString('hex'));
  return dummyHash;
}

export function createUserService(db: Db, options: { sessionTtlMs?: number; lockout?: LockoutPolicy; clock?: Clock } = {}) {
  const clock = options.clock ?? systemClock;
  const sessionTtlMs = options.sessionTtlMs ?? 12 * 60 * 60_000;
  const lockout = options.lockout ?? defaultLockout;

  async function startSession(tenantId: string, userId: string): Promise<{ token: string; csrfToken: string }> {
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const now = clock.now();
    await userStore.deleteExpiredSessions(db, tenantId, userId, now.toISOString());
    await userStore.insertSession(db, {
      tenant_id: tenantId,
      token_hash: hashToken(token),
      user_id: userId,
      csrf_token: csrfToken,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + sessionTtlMs).toISOString(),
    });
    return { token, csrfToken };
  }

  return {
    /** Creates a user (CLI); the tenant must exist. */
    async create(input: { tenantName: string; email: string; role: string; password: string }) {
      const email = normalizeEmail(input.email);
      if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 254) throw new AppError('validation-error', 'The email address is not valid.');
      if (!isRole(input.role)) throw new AppError('validation-error', `The role must be one of ${roles.join(', ')}.`);
      if (input.password.length < minPasswordLength || input.password.length > maxPasswordLength) {
        throw new AppError('validation-error', `The password must have ${minPasswordLength} to ${maxPasswordLength} characters.`);
      }
      const tenant = await tenantStore.findByName(db, input.tenantName);
      if (!tenant) throw new AppError('not-found', `No tenant "${input.tenantName}" (create one with: folio keys create --tenant NAME).`);
      if (await userStore.findByEmail(db, tenant.id, email)) throw new AppError('conflict', `A user ${email} already exists in ${tenant.name}.`);
      const user = {
        tenant_id: tenant.id,
        id: newId('usr'),
        email,
        role: input.role,
        password_hash: await argon2Hash(input.password),
        created_at: clock.nowIso(),
        disabled_at: null,
      };
      await userStore.insert(db, user);
      return { tenantId: tenant.id, userId: user.id, email, role: input.role };
    },

    /**
     * Checks the password and starts a new session (a new token on every sign-in, so a token
     * planted before sign-in is worthless). After `maxFailures` wrong passwords within the window
     * the account refuses every attempt, right or wrong, until the window has passed.
     */
    async signIn(input: { tenantName: string; email: string; password: string }): Promise<SignInResult> {
      const email = normalizeEmail(input.email);
      const tenant = input.tenantName.length <= 200 ? await tenantStore.findByName(db, input.tenantName.trim()) : undefined;
      const user = tenant ? await userStore.findByEmail(db, tenant.id, email) : undefined;
      if (tenant) {
        const nowMs = clock.now().getTime();
        const since = new Date(nowMs - lockout.windowMs).toISOString();
        const failures = await userStore.countFailuresSince(db, tenant.id, email, since);
        if (failures.count >= lockout.maxFailures) {
          const retryAfterMs = failures.lastAt ? Math.max(0, Date.parse(failures.lastAt) + lockout.windowMs - nowMs) : lockout.windowMs;
          return { ok: false, reason: 'locked', retryAfterMs };
        }
      }
      const password = input.password.slice(0, maxPasswordLength);
      let valid = false;
      if (user && !user.disabled_at) valid = await argon2Verify(user.password_hash, password);
      else await argon2Verify(await dummyPasswordHash(), password);
      if (!valid || !user || !tenant) {
        if (tenant) {
          await userStore.pruneFailures(db, tenant.id, new Date(clock.now().getTime() - lockout.windowMs).toISOString());
          await userStore.recordFailure(db, tenant.id, email, clock.nowIso());
        }
        return { ok: false, reason: 'invalid' };
      }
      await userStore.clearFailures(db, tenant.id, email);
      const session = await startSession(tenant.id, user.id);
      return {
        ok: true,
        sessionToken: session.token,
        user: { tenantId: tenant.id, userId: user.id, email: user.email, role: user.role as Role, csrfToken: session.csrfToken },
      };
    },

    /** The signed-in user of a session cookie, or null when unknown, expired or disabled. */
    async resolveSession(token: string | undefined): Promise<SignedInUser | null> {
      if (!token || token.length > 100) return null;
      const row = await userStore.findSession(db, hashToken(token));
      if (!row || row.disabled_at || row.expires_at < clock.nowIso() || !isRole(row.role)) return null;
      return { tenantId: row.tenant_id, userId: row.user_id, email: row.email, role: row.role, csrfToken: row.csrf_token };
    },

    async signOut(token: string | undefined): Promise<void> {
      if (token && token.length <= 100) await userStore.deleteSession(db, hashToken(token));
    },

    /** Emails of the given actor ids that are users (history shows who changed what). */
    async emailsOf(tenantId: string, actorIds: string[]): Promise<Map<string, string>> {
      const ids = [...new Set(actorIds.filter((id) => id.startsWith('usr_')))];
      const rows = await userStore.listEmails(db, tenantId, ids);
      return new Map(rows.map((row) => [row.id, row.email]));
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;
