import type { FieldError } from '../shared/errors.js';

/**
 * Where each part of a core write command came from in a dialect's request, so a core problem
 * (whose JSON pointers name core fields, e.g. `/lines/2/net_amount`) can name the client's own
 * field instead (`InvoiceLine[0].InvoiceLineItem[1].Amount`). Pure; used by the dialects' translate modules.
 */
export class FieldPaths {
  private readonly entries = new Map<string, string>();

  /** Records that the core pointer `pointer` (and everything below it) was sent as `systemPath`. */
  set(pointer: string, systemPath: string): this {
    this.entries.set(pointer, systemPath);
    return this;
  }

  /** The client's name for a core pointer: the longest recorded prefix, with the rest appended. */
  name(pointer: string): string | undefined {
    let candidate = pointer;
    while (candidate.length > 0) {
      const found = this.entries.get(candidate);
      if (found !== undefined) return candidate === pointer ? found : `${found}${pointer.slice(candidate.length).replace(/\//g, '.')}`;
      const cut = candidate.lastIndexOf('/');
      if (cut <= 0) break;
      candidate = candidate.slice(0, cut);
    }
    return undefined;
  }

  /** Rewrites the core pointers quoted in a problem's detail text with the client's names. */
  rewriteText(text: string): string {
    return text.replace(/\/[A-Za-z0-9_~/.-]+/g, (pointer) => this.name(pointer) ?? pointer);
  }

  /** Field errors keyed by the client's field names (unknown pointers keep theirs). */
  rewriteErrors(errors: FieldError[] | undefined): Array<FieldError & { field: string }> {
    return (errors ?? []).map((error) => ({ ...error, field: this.name(error.pointer) ?? error.pointer }));
  }
}
