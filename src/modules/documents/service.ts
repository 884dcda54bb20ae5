import { createHash } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Config } from '../../config.js';
import type { Db } from '../../db/database.js';
import type { RequestContext } from '../../core/request-context.js';
import { AppError, notFound } from '../../shared/errors.js';
import { createFilesystemBlobStore, type BlobStore } from '../attachments/blob-store.js';
import { changesOf, recordAdminEvent } from '../tenants/admin-events.js';
import type { CreditNoteService } from '../credit-notes/service.js';
import type { HistoryService } from '../history/service.js';
import type { InvoiceService } from '../invoices/service.js';
import { isValidIban } from './payment-reference.js';
import { documentRendererRevision, renderDocument } from './render.js';
import type { DocumentFormat, SellerPatch } from './schemas.js';
import type { DocumentParty, SellerDetails } from './seller.js';
import { creditNoteSource, invoiceSource, type SourceDocument } from './source.js';
import { documentCacheStore, documentSellerStore } from './store.js';
import { systemClock, type Clock } from '../../shared/time.js';

export interface DocumentServiceDeps {
  db: Db;
  invoices: InvoiceService;
  history: HistoryService;
  creditNotes: CreditNoteService;
  blobs: BlobStore;
  /** Stamps the seller's updated_at and the cache entries (the system clock unless composition gives one). */
  clock?: Clock;
}

/** Whose seller details a document shows: those in force when the version was written (default), or today's. */
export type SellerChoice = 'as_written' | 'current';

export interface RenderedDocument {
  body: Buffer;
  /** The invoice version rendered (null for a credit note, which never changes). */
  version: number | null;
  number: string | null;
}

const logoTypes = new Set(['image/png', 'image/jpeg']);
export const maxLogoBytes = 1024 * 1024;
/** Far above any document Folio renders (a 1,000-line PDF is about 100 kB). */
const maxDocumentBytes = 64 * 1024 * 1024;

async function readAll(stream: AsyncIterable<Buffer>, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > maxBytes) throw new Error(`blob larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Documents of invoices (any version) and credit notes. Read side only: each render reads the
 * version and the seller, then runs a pure renderer outside any transaction. Rendered bytes are
 * kept in the blob store (document_cache) and served again for the same key.
 */
export function createDocumentService(deps: DocumentServiceDeps) {
  const clock = deps.clock ?? systemClock;
  async function partyOf(seller: SellerDetails): Promise<DocumentParty> {
    // A logo whose bytes went missing is left out rather than failing every document.
    const logo = seller.logo_sha256 ? await deps.blobs.open(seller.logo_sha256).then((stream) => readAll(stream, maxLogoBytes)).catch(() => null) : null;
    return { seller, logo };
  }

  /**
   * The seller printed on a document: the one in force at `at` (when the version was written, or
   * the credit note issued), or today's when `at` is null (drafts, and `?seller=current`).
   */
  async function sellerAt(ctx: RequestContext, at: string | null): Promise<SellerDetails> {
    return at === null ? documentSellerStore.find(deps.db, ctx.auth.tenantId) : documentSellerStore.findAt(deps.db, ctx.auth.tenantId, at);
  }

  /**
   * Renders, or answers the bytes rendered before for the same key. The key holds everything the
   * bytes depend on (document, version, format, renderer revision, a hash of the seller used), so an entry never
   * goes stale; a missing blob (swept) just means rendering again.
   */
  async function render(ctx: RequestContext, format: DocumentFormat, source: SourceDocument, versionTag: string, seller: SellerDetails): Promise<Buffer> {
    const tenantId = ctx.auth.tenantId;
    // The seller JSON holds the logo's sha256, so the hash covers the logo too.
    const sellerHash = createHash('sha256').update(JSON.stringify(seller)).digest('hex').slice(0, 16);
    const key = `${source.kind}:${source.id}:${versionTag}:${format}:r${documentRendererRevision}:${sellerHash}`;
    const cachedSha256 = await documentCacheStore.find(deps.db, tenantId, key);
    if (cachedSha256) {
      const bytes = await deps.blobs.open(cachedSha256).then((stream) => readAll(stream, maxDocumentBytes)).catch(() => null);
      if (bytes) return bytes;
    }
    const body = await renderDocument(format, source, await partyOf(seller));
    await remember(tenantId, key, body).catch(() => undefined); // a cache that cannot write is only slower
    return body;
  }

  async function remember(tenantId: string, key: string, body: Buffer) {
    const staged = await deps.blobs.stage(Readable.from([body]));
    try {
      await deps.blobs.commit(staged);
    } finally {
      await deps.blobs.discard(staged);
    }
    await documentCacheStore.put(deps.db, tenantId, key, staged.sha256, clock.nowIso());
  }

  return {
    /**
     * A version's document shows the seller in force when that version was written, so a document
     * sent once is reproduced byte for byte after the seller settings change; a draft (not issued
     * yet) and `seller: 'current'` show today's seller.
     */
    async invoiceDocument(ctx: RequestContext, invoiceId: string, format: DocumentFormat, version?: number, sellerChoice: SellerChoice = 'as_written'): Promise<RenderedDocument> {
      const current = await deps.invoices.get(ctx, invoiceId);
      const invoice = version === undefined || version === current.version ? current : await deps.history.atVersion(ctx, current, version);
      const writtenAt = sellerChoice === 'current' || invoice.status === 'draft' ? null : await deps.history.versionWrittenAt(ctx, invoice.id, invoice.version);
      const seller = await sellerAt(ctx, writtenAt);
      return { body: await render(ctx, format, invoiceSource(invoice), `v${invoice.version}`, seller), version: invoice.version, number: invoice.number };
    },

    /**
     * A credit note shows the credited invoice as it was when the note was issued (its buyer,
     * number, references) and the seller in force then (or today's with `seller: 'current'`):
     * later edits of the invoice do not rewrite a credit note already sent.
     */
    async creditNoteDocument(ctx: RequestContext, creditNoteId: string, format: Exclude<DocumentFormat, 'finvoice'>, sellerChoice: SellerChoice = 'as_written'): Promise<RenderedDocument> {
      const note = await deps.creditNotes.get(ctx, creditNoteId);
      const current = await deps.invoices.get(ctx, note.invoice_id);
      const creditedVersion = (await deps.history.versionCurrentAt(ctx, current.id, note.created_at)) ?? current.version;
      const credited = creditedVersion === current.version ? current : await deps.history.atVersion(ctx, current, creditedVersion);
      const seller = await sellerAt(ctx, sellerChoice === 'current' ? null : note.created_at);
      return { body: await render(ctx, format, creditNoteSource(note, credited), `invoice-v${credited.version}`, seller), version: null, number: note.number };
    },

    seller: (tenantId: string): Promise<SellerDetails> => documentSellerStore.find(deps.db, tenantId),

    /** Applies a PATCH (absent: unchanged, null: cleared); a logo must be a PNG or JPEG attachment. */
    async updateSeller(ctx: RequestContext, patch: SellerPatch): Promise<SellerDetails> {
      if (patch.iban && !isValidIban(patch.iban)) {
        throw new AppError('validation-error', 'The IBAN\'s check digits do not match.', { errors: [{ pointer: '/document_seller/iban', detail: 'not a valid IBAN (check digits)' }] });
      }
      const before = await documentSellerStore.find(deps.db, ctx.auth.tenantId);
      const { logo, address, ...fields } = patch;
      const next: SellerDetails = { ...before, ...fields };
      if (address !== undefined) next.address = address === null ? null : { ...before.address, ...address };
      if (logo === null) next.logo_sha256 = null;
      else if (logo !== undefined) {
        const invoice = await deps.invoices.get(ctx, logo.invoice_id);
        const attachment = invoice.attachments.find((item) => item.id === logo.attachment_id);
        if (!attachment) throw notFound('attachment', logo.attachment_id);
        if (!logoTypes.has(attachment.content_type) || attachment.size_bytes > maxLogoBytes) {
          throw new AppError('validation-error', `A logo must be a PNG or JPEG of at most ${maxLogoBytes} bytes.`, {
            errors: [{ pointer: '/document_seller/logo', detail: `attachment ${attachment.id} is ${attachment.content_type}, ${attachment.size_bytes} bytes` }],
          });
        }
        next.logo_sha256 = attachment.sha256;
      }
      const changes = changesOf(before, next).map((change) => ({ ...change, path: `/document_seller${change.path}` }));
      // Unchanged details make no new revision (the history holds changes, not PATCH calls).
      if (changes.length > 0) {
        await deps.db.transaction().execute(async (tx) => {
          await documentSellerStore.save(tx, ctx.auth.tenantId, next, clock.nowIso());
          await recordAdminEvent(tx, ctx, { action: 'settings.update', changes, at: clock.nowIso() });
        });
      }
      return next;
    },
  };
}

export type DocumentService = ReturnType<typeof createDocumentService>;

/** The service as the app builds it: the attachments' filesystem blob store under FOLIO_DATA_DIR/blobs. */
export function documentServiceFromConfig(config: Config, db: Db, services: { invoices: InvoiceService; history: HistoryService; creditNotes: CreditNoteService; kernel: { clock: Clock } }) {
  return createDocumentService({ db, ...services, clock: services.kernel.clock, blobs: createFilesystemBlobStore(path.join(config.dataDir, 'blobs')) });
}
