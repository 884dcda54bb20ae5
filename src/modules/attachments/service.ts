import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Config } from '../../config.js';
import type { Db } from '../../db/database.js';
import { assertIfMatch, type RequestContext, type WriteOptions } from '../../core/request-context.js';
import { AppError, editNotAllowed, notFound } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { nowIso } from '../../shared/time.js';
import { diffInvoices } from '../invoices/domain/diff.js';
import type { AttachmentMeta, Invoice } from '../invoices/domain/model.js';
import type { InvoiceService } from '../invoices/service.js';
import { createFilesystemBlobStore, type BlobStore } from './blob-store.js';
import { sanitizeFilename } from './domain/filename.js';
import { allowedContentTypes, SniffInspector } from './domain/sniff.js';
import { attachmentStore } from './store.js';

export interface AttachmentServiceDeps {
  db: Db;
  invoices: InvoiceService;
  blobs: BlobStore;
  maxAttachmentBytes: number;
  maxAttachmentsPerInvoice: number;
}

export interface Upload {
  filename: string | undefined;
  /** The file's bytes as they arrive; consumed once. */
  stream: Readable;
}

export interface AttachmentWriteResult {
  invoice: Invoice;
  attachment: AttachmentMeta;
}

export const payloadTooLarge = (maxBytes: number) =>
  new AppError('payload-too-large', `The attachment is larger than the limit of ${maxBytes} bytes; nothing was stored.`, {
    extensions: { max_bytes: maxBytes },
  });

/** Counts and inspects bytes on their way to the blob store; stops the upload past the limit. */
async function* inspected(source: Readable, inspector: SniffInspector, maxBytes: number, onSize: (size: number) => void) {
  let size = 0;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw payloadTooLarge(maxBytes);
    inspector.push(chunk);
    yield chunk;
  }
  // @fastify/multipart marks a stream cut at its own fileSize limit as truncated.
  if ((source as { truncated?: boolean }).truncated) throw payloadTooLarge(maxBytes);
  onSize(size);
}

export function createAttachmentService(deps: AttachmentServiceDeps) {
  const { invoices, blobs } = deps;

  function assertAttachable(invoice: Invoice) {
    if (invoice.status === 'void') {
      throw editNotAllowed('void-is-final', `A void invoice takes no attachment changes (invoice ${invoice.id} is void).`);
    }
  }

  /** Runs one attachment change as a new invoice version through the invoices' version-writing path. */
  async function writeVersion(
    ctx: RequestContext,
    invoiceId: string,
    options: WriteOptions,
    change: (before: Invoice) => { attachments: AttachmentMeta[]; attachment: AttachmentMeta; action: string; eventType: string },
  ): Promise<AttachmentWriteResult> {
    let attachment: AttachmentMeta | undefined;
    const result = await invoices.inTransaction({ ...options, dryRun: false }, async (tx) => {
      const before = await invoices.loadForWrite(tx, ctx, invoiceId, options);
      assertAttachable(before);
      const planned = change(before);
      attachment = planned.attachment;
      const after: Invoice = { ...before, attachments: planned.attachments, version: before.version + 1, updated_at: nowIso() };
      const changes = diffInvoices(before, after);
      await invoices.recordVersion(
        tx,
        ctx,
        before,
        after,
        { action: planned.action, eventType: planned.eventType, changes, eventData: { attachment_id: planned.attachment.id } },
        options.reason ?? null,
      );
      return { invoice: after, changes, written: true };
    });
    return { invoice: result.invoice, attachment: attachment as AttachmentMeta };
  }

  return {
    /**
     * Streams the upload into the blob store (hashing on the way, never holding the file in
     * memory), decides its type from the bytes, then records the attachment as a new invoice
     * version. A refused upload (too large, type not allowed, invoice void or unknown) stores nothing.
     */
    async add(ctx: RequestContext, invoiceId: string, upload: Upload, options: WriteOptions = {}): Promise<AttachmentWriteResult> {
      // Cheap checks first, so a doomed upload is refused before its bytes are written anywhere.
      const current = await invoices.get(ctx, invoiceId);
      assertAttachable(current);
      assertIfMatch(options.ifMatch, current.version);
      if (current.attachments.length >= deps.maxAttachmentsPerInvoice) throw tooMany(deps.maxAttachmentsPerInvoice);

      const inspector = new SniffInspector();
      let sizeBytes = 0;
      const staged = await blobs.stage(inspected(upload.stream, inspector, deps.maxAttachmentBytes, (size) => (sizeBytes = size)));
      try {
        const contentType = inspector.result(sizeBytes);
        if (contentType === null) {
          throw new AppError('unsupported-media-type', `The file's content is not an allowed type (${allowedContentTypes.join(', ')}); the type is decided from the bytes, not from the name or header.`);
        }
        await blobs.commit(staged);
        const attachment: AttachmentMeta = {
          id: newId('att'),
          filename: sanitizeFilename(upload.filename),
          content_type: contentType,
          size_bytes: staged.sizeBytes,
          sha256: staged.sha256,
          created_at: nowIso(),
        };
        return await writeVersion(ctx, invoiceId, options, (before) => {
          if (before.attachments.length >= deps.maxAttachmentsPerInvoice) throw tooMany(deps.maxAttachmentsPerInvoice);
          return { attachments: [...before.attachments, attachment], attachment, action: 'attachment_add', eventType: 'invoice.attachment_added' };
        });
      } finally {
        await blobs.discard(staged);
      }
    },

    async remove(ctx: RequestContext, invoiceId: string, attachmentId: string, options: WriteOptions = {}): Promise<AttachmentWriteResult> {
      return writeVersion(ctx, invoiceId, options, (before) => {
        const attachment = before.attachments.find((item) => item.id === attachmentId);
        if (!attachment) throw notFound('attachment', attachmentId);
        return {
          attachments: before.attachments.filter((item) => item.id !== attachmentId),
          attachment,
          action: 'attachment_remove',
          eventType: 'invoice.attachment_removed',
        };
      });
    },

    async list(ctx: RequestContext, invoiceId: string): Promise<AttachmentMeta[]> {
      return (await invoices.get(ctx, invoiceId)).attachments;
    },

    /** The attachment's metadata and a stream of its bytes. */
    async open(ctx: RequestContext, invoiceId: string, attachmentId: string): Promise<{ attachment: AttachmentMeta; stream: Readable }> {
      const invoice = await invoices.get(ctx, invoiceId);
      const attachment = invoice.attachments.find((item) => item.id === attachmentId);
      if (!attachment) throw notFound('attachment', attachmentId);
      return { attachment, stream: await blobs.open(attachment.sha256) };
    },

    /**
     * Deletes bytes no attachment row points at, and staging files left by crashes. Only
     * objects older than the grace period go, so an upload between its commit to the blob
     * store and its metadata transaction is never swept away.
     */
    async sweep(graceMs: number): Promise<{ blobsDeleted: number; bytesFreed: number; stagingDeleted: number }> {
      const cutoff = new Date(Date.now() - graceMs);
      const referenced = await attachmentStore.referencedSha256s(deps.db);
      let blobsDeleted = 0;
      let bytesFreed = 0;
      for await (const blob of blobs.list()) {
        if (referenced.has(blob.sha256) || blob.modifiedAt >= cutoff) continue;
        // Re-check one by one: a row may have arrived since the set was read.
        if (await attachmentStore.isReferenced(deps.db, blob.sha256)) continue;
        await blobs.delete(blob.sha256);
        blobsDeleted++;
        bytesFreed += blob.sizeBytes;
      }
      const stagingDeleted = await blobs.deleteStaleStaging(cutoff);
      return { blobsDeleted, bytesFreed, stagingDeleted };
    },
  };
}

/** The service as the app and the CLI build it: filesystem blobs under FOLIO_DATA_DIR/blobs. */
export function attachmentServiceFromConfig(config: Config, db: Db, invoices: InvoiceService) {
  return createAttachmentService({
    db,
    invoices,
    blobs: createFilesystemBlobStore(path.join(config.dataDir, 'blobs')),
    maxAttachmentBytes: config.maxAttachmentBytes,
    maxAttachmentsPerInvoice: config.maxAttachmentsPerInvoice,
  });
}

const tooMany = (max: number) =>
  new AppError('too-many-attachments', `An invoice holds at most ${max} attachments; remove one first.`);

export type AttachmentService = ReturnType<typeof createAttachmentService>;
