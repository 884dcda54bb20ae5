import { renderFinvoice } from './finvoice.js';
import { renderPdf } from './pdf.js';
import type { DocumentFormat } from './schemas.js';
import type { DocumentParty } from './seller.js';
import type { SourceDocument } from './source.js';
import { renderUbl } from './ubl.js';

/**
 * The revision of the renderers' output. Bump it with every change that alters the bytes rendered
 * for the same input (a renderer's code, pdfkit, fontkit, xmlbuilder2, the font): it is part of
 * the cache key, so documents cached under the old output are not served as if they were the new.
 * test/unit/documents-golden.test.ts pins the bytes of fixed documents to this revision and fails
 * until it is bumped.
 */
export const documentRendererRevision = 2;

/** The pure renderers: (document at a version, seller) → bytes. Same input, same bytes. */
export async function renderDocument(format: DocumentFormat, source: SourceDocument, party: DocumentParty): Promise<Buffer> {
  switch (format) {
    case 'pdf':
      return renderPdf(source, party);
    case 'ubl':
      return renderUbl(source, party);
    case 'finvoice':
      return renderFinvoice(source, party);
  }
}

export const contentTypeOf: Record<DocumentFormat, string> = {
  pdf: 'application/pdf',
  ubl: 'application/xml; charset=utf-8',
  finvoice: 'application/xml; charset=utf-8',
};

export const fileExtensionOf: Record<DocumentFormat, string> = { pdf: 'pdf', ubl: 'xml', finvoice: 'finvoice.xml' };
