/** Who is calling: resolved from the API key on every /v1 request. */
export interface AuthContext {
  tenantId: string;
  keyId: string;
  scopes: ReadonlySet<Scope>;
}

export const allScopes = ['invoices:read', 'invoices:write', 'admin'] as const;
export type Scope = (typeof allScopes)[number];

export function isScope(value: string): value is Scope {
  return (allScopes as readonly string[]).includes(value);
}

/** `admin` implies every other scope; `invoices:write` implies `invoices:read`. */
export function hasScope(granted: ReadonlySet<Scope>, needed: Scope): boolean {
  if (granted.has(needed) || granted.has('admin')) return true;
  return needed === 'invoices:read' && granted.has('invoices:write');
}
