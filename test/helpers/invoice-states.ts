import { expectStatus, type Client } from './harness.js';

/** Builds invoices in a given lifecycle state through the public API (no shortcuts into the database). */
export const sampleInvoice = {
  currency: 'USD',
  due_date: '2999-12-31',
  lines: [
    { description: 'Consulting', quantity: '2', unit_price: '50.00', tax_rate: '10' },
    { description: 'Travel', quantity: '1', unit_price: '10.00' },
  ],
}; // total 120.00

export type FixtureState = 'draft' | 'open' | 'paid' | 'void' | 'superseded';

export async function invoiceInState(api: Client, state: FixtureState): Promise<any> {
  const draft = expectStatus(await api.post('/v1/invoices', sampleInvoice), 201);
  if (state === 'draft') return draft;
  const open = expectStatus(await api.post(`/v1/invoices/${draft.id}/finalize`), 200);
  if (state === 'open') return open;
  if (state === 'void') return expectStatus(await api.post(`/v1/invoices/${draft.id}/void`), 200);
  const paid = expectStatus(await api.post(`/v1/invoices/${draft.id}/payments`, { amount: open.balance, date: '2026-01-15', method: 'bank_transfer' }), 201).invoice;
  if (state === 'paid') return paid;
  // superseded: a paid invoice revised, its revision finalized — void, and still holding its payment.
  const revised = expectStatus(await api.post(`/v1/invoices/${draft.id}/revise`), 201);
  expectStatus(await api.post(`/v1/invoices/${revised.revision.id}/finalize`), 200);
  return expectStatus(await api.get(`/v1/invoices/${draft.id}`), 200);
}

export async function firstPaymentId(api: Client, invoiceId: string): Promise<string | undefined> {
  const list = expectStatus(await api.get(`/v1/invoices/${invoiceId}/payments`), 200);
  return list.data[0]?.id;
}
