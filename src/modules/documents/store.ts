import type { DbOrTx, Tx } from '../../db/database.js';
import { emptySeller, type SellerDetails } from './seller.js';

/** SQL only: the seller details a tenant prints on its documents. */
export const documentSellerStore = {
  async find(db: DbOrTx, tenantId: string): Promise<SellerDetails> {
    const row = await db.selectFrom('document_sellers').select(['seller', 'logo_sha256']).where('tenant_id', '=', tenantId).executeTakeFirst();
    if (!row) return emptySeller;
    return { ...emptySeller, ...(JSON.parse(row.seller) as Partial<SellerDetails>), logo_sha256: row.logo_sha256 };
  },

  /**
   * The seller in force at `at` (an RFC 3339 timestamp): the newest revision that took effect at
   * or before it. A tenant that had no seller then gets the empty seller.
   */
  async findAt(db: DbOrTx, tenantId: string, at: string): Promise<SellerDetails> {
    const row = await db
      .selectFrom('document_seller_history')
      .select(['seller', 'logo_sha256'])
      .where('tenant_id', '=', tenantId)
      .where('valid_from', '<=', at)
      .orderBy('valid_from', 'desc')
      .orderBy('revision', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!row) return emptySeller;
    return { ...emptySeller, ...(JSON.parse(row.seller) as Partial<SellerDetails>), logo_sha256: row.logo_sha256 };
  },

  /** Saves the current seller and appends it to the history as the next revision, in force from `updatedAt` (in the caller's transaction). */
  async save(tx: Tx, tenantId: string, seller: SellerDetails, updatedAt: string): Promise<void> {
    const { logo_sha256: logoSha256, ...rest } = seller;
    const values = { seller: JSON.stringify(rest), logo_sha256: logoSha256, updated_at: updatedAt };
    // The upsert locks the tenant's row first, so two concurrent saves take their revisions in turn.
    await tx
      .insertInto('document_sellers')
      .values({ tenant_id: tenantId, ...values })
      .onConflict((conflict) => conflict.column('tenant_id').doUpdateSet(values))
      .execute();
    const last = await tx.selectFrom('document_seller_history').select(({ fn }) => fn.max('revision').as('revision')).where('tenant_id', '=', tenantId).executeTakeFirst();
    await tx
      .insertInto('document_seller_history')
      .values({ tenant_id: tenantId, revision: Number(last?.revision ?? 0) + 1, valid_from: updatedAt, seller: values.seller, logo_sha256: logoSha256 })
      .execute();
  },

  /** For the blob sweep: a logo (of any revision) keeps its bytes even after the attachment it came from is gone. */
  async logoSha256s(db: DbOrTx): Promise<Set<string>> {
    // Every revision's logo: an old version's document keeps the logo it was written with.
    const rows = await db.selectFrom('document_seller_history').select('logo_sha256').where('logo_sha256', 'is not', null).distinct().execute();
    const current = await db.selectFrom('document_sellers').select('logo_sha256').where('logo_sha256', 'is not', null).distinct().execute();
    return new Set([...rows, ...current].map((row) => row.logo_sha256 as string));
  },
};

/** SQL only: which blob holds a rendered document. Entries are hints: the bytes can always be rendered again. */
export const documentCacheStore = {
  async find(db: DbOrTx, tenantId: string, documentKey: string): Promise<string | null> {
    const row = await db.selectFrom('document_cache').select('sha256').where('tenant_id', '=', tenantId).where('document_key', '=', documentKey).executeTakeFirst();
    return row?.sha256 ?? null;
  },

  async put(db: DbOrTx, tenantId: string, documentKey: string, sha256: string, createdAt: string): Promise<void> {
    const values = { sha256, created_at: createdAt };
    await db
      .insertInto('document_cache')
      .values({ tenant_id: tenantId, document_key: documentKey, ...values })
      .onConflict((conflict) => conflict.columns(['tenant_id', 'document_key']).doUpdateSet(values))
      .execute();
  },
};
