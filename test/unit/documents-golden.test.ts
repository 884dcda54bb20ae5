import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { documentRendererRevision, renderDocument } from '../../src/modules/documents/render.js';
import { creditNoteSource, invoiceSource } from '../../src/modules/documents/source.js';
import { fullCreditFor } from '../../src/modules/credit-notes/domain.js';
import { buildInvoice, sampleParty } from '../helpers/document-fixtures.js';

/**
 * The bytes of fixed documents, pinned to the renderer revision. A change to a renderer, or an
 * upgrade of pdfkit/fontkit/xmlbuilder2/the font, changes them: bump documentRendererRevision
 * (src/modules/documents/render.ts: the cache then stops serving the old output), put the new
 * hashes here, and say in the release notes that re-rendered documents differ from earlier copies.
 */
const pinned = {
  revision: 2,
  sha256: {
    'invoice.pdf': 'a1c23ea1120a9bded579f31c9fc0257acdd984e8a30c2a7249e0af37f720c7d6',
    'invoice.ubl': 'a7948ec82737503eda3762c726850dff255fd0b4247b6108c42aa1fb265284df',
    'invoice.finvoice': 'e6f8c4778aed3ddc2225c24bc734715e2b9c353a298bd62fa10370066a0509bc',
    'credit_note.pdf': '7da32b1f5f6f7afadff31b7f03037169c365edd3fdb347e6b7f6a4de96af63ca',
    'credit_note.ubl': '906fa611e5d316511ca397b015594c8c632ce8fc38191668695b68df3bbdfbc8',
  } as Record<string, string>,
};

test('fixed documents render to the bytes pinned for this renderer revision', async () => {
  const invoice = buildInvoice({
    reference: 'RF18539007547034',
    lines: [
      { description: 'Konsultointi – Järvinen', quantity: '3', unitPrice: '1200.50', taxRate: '25.5', unit: 'h', discount: { type: 'percent', value: '10' } },
      { description: 'Søknad € Łódź', quantity: '1', unitPrice: '20', taxRate: '10' },
      { description: 'Rahti', quantity: '1', unitPrice: '9.90', taxRate: '0' },
    ],
  });
  const note = fullCreditFor(invoice, { id: 'crn_golden', number: 'CN-000001', reason: 'Palautus', revisionId: null, issueDate: '2026-03-05', now: '2026-03-05T00:00:00.000Z' });
  const rendered: Record<string, Buffer> = {
    'invoice.pdf': await renderDocument('pdf', invoiceSource(invoice), sampleParty),
    'invoice.ubl': await renderDocument('ubl', invoiceSource(invoice), sampleParty),
    'invoice.finvoice': await renderDocument('finvoice', invoiceSource(invoice), sampleParty),
    'credit_note.pdf': await renderDocument('pdf', creditNoteSource(note, invoice), sampleParty),
    'credit_note.ubl': await renderDocument('ubl', creditNoteSource(note, invoice), sampleParty),
  };
  const actual = Object.fromEntries(Object.entries(rendered).map(([name, bytes]) => [name, createHash('sha256').update(bytes).digest('hex')]));
  const hint = `renderer output changed: bump documentRendererRevision (now ${documentRendererRevision}) and pin ${JSON.stringify(actual)}`;
  assert.equal(pinned.revision, documentRendererRevision, hint);
  assert.deepEqual(actual, pinned.sha256, hint);
});
