import type { SqlMigration } from './sql-migration.js';

/**
 * 0015_invoice_lock_read: PostgreSQL's write path locks the invoice and reads what the rules need in
 * ONE round trip (src/modules/invoices/write-store.ts) through this function, instead of two
 * statements. It first locks the invoice row FOR UPDATE, and only then reads the lines, attachments,
 * the tenant's edit policy and its enabled webhook endpoints, in a statement of its own. A VOLATILE
 * PL/pgSQL function takes a new snapshot for each statement it runs (READ COMMITTED), so that read
 * starts after the lock is granted and sees everything the previous holder of the lock committed —
 * the reason the read is not part of the locking statement (issue 13, item 1;
 * test/reliability/locked-reads*.test.ts). No row for an unknown invoice.
 * The JSON is what the two-statement read returned: rows in position (lines) or id (attachments)
 * order, every column by name, NUMERIC columns as text so no digit is lost. The invoice row comes
 * back as the table's own row type, so a column added to `invoices` needs nothing here; a column
 * added to `invoice_lines` or `invoice_attachments` needs a migration that replaces this function
 * (test/api/write-round-trips.test.ts checks that the JSON holds every column).
 * SQLite has no server-side functions and needs none: it reads in process (no round trips).
 * Released: never edit this text (its checksum is in checksums.json); add a new migration instead.
 */
export default {
  sqlite: '',
  postgres: `
CREATE FUNCTION folio_invoice_lock_read(for_tenant text, for_invoice text)
RETURNS TABLE (invoice_row invoices, lines_json text, attachments_json text, tenant_edit_policy text, endpoints_json text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  SELECT * INTO invoice_row FROM invoices AS i WHERE i.tenant_id = for_tenant AND i.id = for_invoice FOR UPDATE;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  -- A new statement, so a new snapshot: taken after the lock above was granted.
  SELECT
    (SELECT json_agg(json_build_object('tenant_id', r.tenant_id, 'invoice_id', r.invoice_id, 'id', r.id, 'position', r.position,
        'parent_line_id', r.parent_line_id, 'description', r.description, 'quantity', r.quantity::text, 'unit', r.unit,
        'unit_price', r.unit_price::text, 'discount_type', r.discount_type, 'discount_value', r.discount_value::text,
        'tax_rate', r.tax_rate::text, 'tax_code', r.tax_code, 'account_code', r.account_code, 'item_code', r.item_code,
        'tracking', r.tracking, 'amount_before_discount', r.amount_before_discount::text, 'discount_amount', r.discount_amount::text,
        'net_amount', r.net_amount::text, 'tax_amount', r.tax_amount::text, 'gross_amount', r.gross_amount::text, 'guid', r.guid)
      ORDER BY r.position)::text
      FROM invoice_lines AS r WHERE r.tenant_id = for_tenant AND r.invoice_id = for_invoice),
    (SELECT json_agg(json_build_object('tenant_id', r.tenant_id, 'invoice_id', r.invoice_id, 'id', r.id, 'filename', r.filename,
        'content_type', r.content_type, 'size_bytes', r.size_bytes, 'sha256', r.sha256, 'created_at', r.created_at)
      ORDER BY r.id)::text
      FROM invoice_attachments AS r WHERE r.tenant_id = for_tenant AND r.invoice_id = for_invoice),
    (SELECT t.edit_policy FROM tenants AS t WHERE t.id = for_tenant),
    (SELECT json_agg(json_build_array(e.id, e.event_types) ORDER BY e.id)::text
      FROM webhook_endpoints AS e WHERE e.tenant_id = for_tenant AND e.enabled = 1)
  INTO lines_json, attachments_json, tenant_edit_policy, endpoints_json;
  RETURN NEXT;
END
$$;
`,
} satisfies SqlMigration;
