import type { DbOrTx } from '../../db/database.js';
import { documentSellerStore } from '../documents/store.js';

/** SQL only. Attachment rows are written with their invoice version (src/modules/invoices/store.ts). */
export const attachmentStore = {
  /** Every sha256 some attachment row still points at (all tenants: the blob store is shared). */
  async referencedSha256s(db: DbOrTx): Promise<Set<string>> {
    const rows = await db.selectFrom('invoice_attachments').select('sha256').distinct().execute();
    return new Set([...rows.map((row) => row.sha256), ...(await documentSellerStore.logoSha256s(db))]);
  },

  async isReferenced(db: DbOrTx, sha256: string): Promise<boolean> {
    const row = await db.selectFrom('invoice_attachments').select('id').where('sha256', '=', sha256).limit(1).executeTakeFirst();
    if (row !== undefined) return true;
    // Tenant logos (src/modules/documents) keep their bytes too.
    const logo = await db.selectFrom('document_sellers').select('tenant_id').where('logo_sha256', '=', sha256).limit(1).executeTakeFirst();
    return logo !== undefined;
  },
};
