import multipart, { type MultipartFile } from '@fastify/multipart';
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import type { App } from '../../core/app.js';
import { etagFor, requestContext } from '../../core/request-context.js';
import { IfMatchHeaders, IdString } from '../../core/schema-helpers.js';
import { AppError } from '../../shared/errors.js';
import { AttachmentOutput, InvoiceIdParams } from '../invoices/schemas.js';
import { writeOptions } from '../invoices/write-answer.js';
import { contentDisposition } from './domain/filename.js';
import { servedContentType } from './domain/sniff.js';
import type { AttachmentService, AttachmentWriteResult, StagedUpload } from './service.js';

const tags = ['attachments'];
const AttachmentParams = Type.Object({ id: IdString, aid: IdString });

/** What identifies an upload for its Idempotency-Key: the file's bytes (sha256), its name and the form fields. */
function uploadFingerprint(part: MultipartFile, staged: StagedUpload) {
  const fields = Object.values(part.fields)
    .flat()
    .flatMap((field) => (field && field.type === 'field' ? [[field.fieldname, String(field.value)]] : []));
  return { file: { field: part.fieldname, filename: part.filename, sha256: staged.blob.sha256, size_bytes: staged.blob.sizeBytes }, fields };
}

/** POST/GET/DELETE /invoices/:id/attachments[/:aid]. Thin: parsing and headers only. */
export async function attachmentRoutes(app: App, { attachments, maxAttachmentBytes }: { attachments: AttachmentService; maxAttachmentBytes: number }) {
  // Parses multipart/form-data lazily: the file arrives as a stream, never buffered whole.
  // Uploads are multipart only: without the JSON parser in this scope, a JSON body is a 415 that lists what is accepted.
  app.removeContentTypeParser('application/json');
  await app.register(multipart, {
    limits: { fileSize: maxAttachmentBytes, files: 1, fields: 10, fieldSize: 1024, parts: 20, headerPairs: 100 },
  });

  app.post('/invoices/:id/attachments', {
    config: { scope: 'invoices:write' },
    schema: {
      tags,
      operationId: 'uploadAttachment', summary: 'Attach a file (multipart/form-data, one file part). The type is sniffed from the bytes.',
      consumes: ['multipart/form-data'],
      params: InvoiceIdParams,
      headers: IfMatchHeaders,
      response: { 201: AttachmentOutput },
    },
  }, async (request, reply) => {
    if (!request.isMultipart()) {
      throw new AppError('unsupported-media-type', 'Send the file as multipart/form-data with one file part.');
    }
    const part = await request.file();
    if (!part) throw new AppError('validation-error', 'The multipart body holds no file part.', { errors: [{ pointer: '/file', detail: 'missing' }] });
    const options = writeOptions(request);
    const upload = { filename: part.filename, stream: part.file };
    let result: AttachmentWriteResult;
    if (request.claimIdempotencyForUpload) {
      // With an Idempotency-Key the upload is read first: its sha256 and fields fingerprint the request.
      const staged = await attachments.stage(upload);
      try {
        if (await request.claimIdempotencyForUpload(uploadFingerprint(part, staged))) return reply;
        result = await attachments.attachStaged(requestContext(request), request.params.id, staged, options);
      } finally {
        await attachments.discard(staged);
      }
    } else {
      result = await attachments.add(requestContext(request), request.params.id, upload, options);
    }
    reply.header('etag', etagFor(result.invoice.version));
    reply.header('location', `/v1/invoices/${result.invoice.id}/attachments/${result.attachment.id}`);
    return reply.status(201).send(result.attachment);
  });

  app.get('/invoices/:id/attachments', {
    config: { scope: 'invoices:read' },
    schema: { tags, operationId: 'listAttachments', summary: "List an invoice's attachments (metadata)", params: InvoiceIdParams, response: { 200: Type.Object({ data: Type.Array(AttachmentOutput) }) } },
  }, async (request) => ({ data: await attachments.list(requestContext(request), request.params.id) }));

  app.get('/invoices/:id/attachments/:aid', {
    config: { scope: 'invoices:read' },
    schema: { tags, operationId: 'downloadAttachment', summary: "Download an attachment's bytes", params: AttachmentParams },
  }, async (request, reply) => {
    const { attachment, stream } = await attachments.open(requestContext(request), request.params.id, request.params.aid);
    return (reply as FastifyReply)
      .header('content-type', servedContentType(attachment.content_type))
      .header('content-length', attachment.size_bytes)
      .header('content-disposition', contentDisposition(attachment.filename))
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .header('etag', `"${attachment.sha256}"`)
      .send(stream);
  });

  app.delete('/invoices/:id/attachments/:aid', {
    config: { scope: 'invoices:write' },
    schema: { tags, operationId: 'deleteAttachment', summary: 'Remove an attachment (a new invoice version; history keeps it)', params: AttachmentParams, headers: IfMatchHeaders },
  }, async (request, reply) => {
    const result = await attachments.remove(requestContext(request), request.params.id, request.params.aid, writeOptions(request));
    return (reply as FastifyReply).header('etag', etagFor(result.invoice.version)).status(204).send();
  });
}
