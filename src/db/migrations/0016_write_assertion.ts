import type { SqlMigration } from './sql-migration.js';

/**
 * 0016_write_assertion: PostgreSQL's write statement (src/modules/invoices/write-store.ts) checks its
 * own outcome, so that COMMIT can go out in the same round trip as the write (src/db/transaction.ts).
 * The write statement's final SELECT calls this function with the rows its invoice UPDATE and its
 * Idempotency-Key part wrote; when one is missing it raises, the transaction is aborted, and the
 * COMMIT sent right behind it ends it as a ROLLBACK. Before, Node read the counts and rolled back
 * itself, which needed COMMIT to wait for the answer.
 *   FLW01: the invoice row was not updated (its version moved under a held lock: never expected).
 *   FLW02: the Idempotency-Key row was not written (another request took the key, or this request
 *          outlived its lease); the kernel answers it as before (409 / lease lost).
 * VOLATILE, so it runs once per execution, after the CTEs, and is never folded at plan time.
 * SQLite has no server-side functions and needs none: its kernel checks the counts in process
 * before its COMMIT.
 * Released: never edit this text (its checksum is in checksums.json); add a new migration instead.
 */
export default {
  sqlite: '',
  postgres: `
CREATE FUNCTION folio_assert_write(header_rows bigint, idempotency_rows bigint, idempotency_expected boolean)
RETURNS int
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF header_rows = 0 THEN
    RAISE EXCEPTION 'the invoice row was not updated (version changed under a held lock)' USING ERRCODE = 'FLW01';
  END IF;
  IF idempotency_expected AND idempotency_rows = 0 THEN
    RAISE EXCEPTION 'the Idempotency-Key row was not written by this request' USING ERRCODE = 'FLW02';
  END IF;
  RETURN 1;
END
$$;
`,
} satisfies SqlMigration;
