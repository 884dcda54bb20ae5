/**
 * The invoice's plain text header fields, declared once. Each is a nullable TEXT column of the
 * same name, an `Invoice` member (`string | null`), a write-command member (absent = unchanged on
 * PATCH, reset to null on PUT, null = cleared), a request field (at most `maxLength` characters)
 * and a response field, with no rule of its own. From this table derive: the row type
 * (src/db/schema.ts), the domain's `Invoice` and `InvoiceWriteCommand` and `writableHeaderFields`,
 * the API's write and output schemas (src/modules/invoices/schemas.ts), the store's columns and
 * row mapping (store.ts, write-store.ts), the header merge (domain/write/header.ts) and the blank
 * invoice (service.ts). A new field of this kind is one entry here plus its migration
 * (docs/architecture.md, "How to add an invoice field").
 *
 * The order is the order of the members in every derived object, schema and column list (it
 * decides the key order of responses and stored history documents): append new fields.
 */
export const plainTextHeaderFields = {
  reference: { maxLength: 140 },
  purchase_order: { maxLength: 140 },
} as const;

export type PlainTextHeaderField = keyof typeof plainTextHeaderFields;

export const plainTextHeaderFieldNames = Object.keys(plainTextHeaderFields) as readonly PlainTextHeaderField[];

/** The fields' values as the row, the model and a full write hold them. */
export type PlainTextHeader = { [Field in PlainTextHeaderField]: string | null };

/** The fields of `source` (a row or an invoice), copied in the table's order. */
export function plainTextHeaderOf(source: PlainTextHeader): PlainTextHeader {
  const copy: Partial<PlainTextHeader> = {};
  for (const field of plainTextHeaderFieldNames) copy[field] = source[field];
  return copy as PlainTextHeader;
}

/** Every field null (a new invoice). */
export const blankPlainTextHeader = (): PlainTextHeader => {
  const blank: Partial<PlainTextHeader> = {};
  for (const field of plainTextHeaderFieldNames) blank[field] = null;
  return blank as PlainTextHeader;
};
