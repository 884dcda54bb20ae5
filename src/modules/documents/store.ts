import type { DbOrTx } from '../../db/database.js';
import { emptySeller, type SellerDetails } from './seller.js';

/** SQL only: the seller details a tenant prints on its documents. */
export const documentSellerStore = {
  async find(db: DbOrTx, tenantId: string): Promise<SellerDetails> {
    const row = await db.selectFrom('document_sellers').select(['seller', 'logo_sha256']).where('tenant_id', '=', tenantId).executeTakeFirst();
    if (!row) return emptySeller;
    return { ...emptySeller, ...(JSON.parse(row.seller) as Partial<SellerDetails>), logo_sha256: row.logo_sha256 };
  },

  async save(db: DbOrTx, tenantId: string, seller: SellerDetails, updatedAt: string): Promise<void> {
    const { logo_sha256: logoSha256, ...rest } = seller;
    const values = { seller: JSON.stringify(rest), logo_sha256: logoSha256, updated_at: updatedAt };
    await db
      .insertInto('document_sellers')
      .values({ tenant_id: tenantId, ...values })
      .onConflict((conflict) => conflict.column('tenant_id').doUpdateSet(values))
      .execute();
  },

  /** For the blob sweep: a logo keeps its bytes even after the attachment it came from is gone. */
  async logoSha256s(db: DbOrTx): Promise<Set<string>> {
    const rows = await db.selectFrom('document_sellers').select('logo_sha256').where('logo_sha256', 'is not', null).distinct().execute();
    return new Set(rows.map((row) => row.logo_sha256 as string));
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
