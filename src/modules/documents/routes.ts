import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../core/app.js';
import { requestContext } from '../../core/request-context.js';
import { AppError } from '../../shared/errors.js';
import { CreditNoteParams } from '../credit-notes/schemas.js';
import { InvoiceIdParams } from '../invoices/schemas.js';
import { contentTypeOf, fileExtensionOf } from './render.js';
import { CreditNoteDocumentQuery, InvoiceDocumentQuery, type DocumentFormat } from './schemas.js';
import type { DocumentService, RenderedDocument } from './service.js';

const tags = ['documents'];
const binary = Type.String({ description: 'The document bytes' });

/**
 * The format: `?format=` when given, else from Accept by its q-values (RFC 9110 §12.5.1):
 * application/pdf → pdf, an XML type → UBL, only a wildcard → pdf; the higher q wins, pdf on a tie.
 * Nothing acceptable (or everything at q=0) is a 406.
 */
function chooseFormat<F extends DocumentFormat>(request: FastifyRequest, given: F | undefined): F | 'pdf' | 'ubl' {
  if (given) return given;
  let pdf = 0;
  let xml = 0;
  let wildcard = 0;
  for (const part of (request.headers.accept ?? '*/*').split(',')) {
    const [rawType = '', ...params] = part.split(';');
    const type = rawType.trim().toLowerCase();
    const qParam = params.map((param) => param.trim().toLowerCase()).find((param) => param.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) || 0 : 1;
    if (type === 'application/pdf') pdf = Math.max(pdf, q);
    else if (type === 'application/xml' || type === 'text/xml') xml = Math.max(xml, q);
    else if (type === '*/*' || type === 'application/*') wildcard = Math.max(wildcard, q);
  }
  if (pdf > 0 && pdf >= xml) return 'pdf';
  if (xml > 0) return 'ubl';
  if (wildcard > 0) return 'pdf';
  throw new AppError('not-acceptable', 'Documents are application/pdf or application/xml; ask with ?format=pdf|ubl|finvoice or Accept.');
}

function send(request: FastifyRequest, reply: FastifyReply, format: DocumentFormat, document: RenderedDocument, fallbackName: string) {
  const name = (document.number ?? fallbackName).replace(/[^A-Za-z0-9._-]/g, '_');
  reply.header('content-type', contentTypeOf[format]);
  reply.header('content-disposition', `inline; filename="${name}${document.version === null ? '' : `-v${document.version}`}.${fileExtensionOf[format]}"`);
  if (document.version !== null) reply.header('x-invoice-version', String(document.version));
  // Same version and format, same bytes: a strong validator clients and caches can rely on.
  const etag = `"${createHash('sha256').update(document.body).digest('hex').slice(0, 32)}"`;
  reply.header('etag', etag);
  // A client that holds these bytes already is told so (RFC 9110 If-None-Match; weak comparison).
  const held = (request.headers['if-none-match'] ?? '').split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  if (held.includes(etag) || held.includes('*')) return reply.status(304).send();
  return reply.send(document.body);
}

export async function documentRoutes(app: App, { documents }: { documents: DocumentService }) {
  app.get('/invoices/:id/document', {
    config: { scope: 'invoices:read' },
    schema: {
      tags,
      operationId: 'getInvoiceDocument',
      summary: 'The invoice as a PDF, UBL 2.1 (Peppol BIS 3) or Finvoice 3.0 document, of the current or an earlier version; same bytes every time',
      params: InvoiceIdParams,
      querystring: InvoiceDocumentQuery,
      produces: ['application/pdf', 'application/xml'],
      response: { 200: binary },
    },
  }, async (request, reply) => {
    const format = chooseFormat(request, request.query.format);
    const document = await documents.invoiceDocument(requestContext(request), request.params.id, format, request.query.version, request.query.seller);
    return send(request, reply, format, document, request.params.id);
  });

  app.get('/credit-notes/:id/document', {
    config: { scope: 'invoices:read' },
    schema: {
      tags,
      operationId: 'getCreditNoteDocument',
      summary: 'The credit note as a PDF or a UBL 2.1 CreditNote referring to the credited invoice',
      params: CreditNoteParams,
      querystring: CreditNoteDocumentQuery,
      produces: ['application/pdf', 'application/xml'],
      response: { 200: binary },
    },
  }, async (request, reply) => {
    const format = chooseFormat(request, request.query.format);
    const document = await documents.creditNoteDocument(requestContext(request), request.params.id, format, request.query.seller);
    return send(request, reply, format, document, request.params.id);
  });
}
