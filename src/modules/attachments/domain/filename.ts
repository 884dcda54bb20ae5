/**
 * Attachment file names: what the client sent, made safe to store and to echo back in a
 * Content-Disposition header (RFC 6266 with an RFC 5987 `filename*` for non-ASCII names).
 */
export const maxFilenameLength = 255;

/** Drops any directory part, control characters and surrounding dots/spaces; never empty. */
export function sanitizeFilename(given: string | undefined | null): string {
  const base = (given ?? '').split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .normalize('NFC')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what a filename must lose
    .replace(/[\u0000-\u001F\u007F-\u009F]/g, '')
    .replace(/^[\s.]+|[\s.]+$/g, '');
  const limited = [...cleaned].slice(0, maxFilenameLength).join('');
  return limited.length > 0 ? limited : 'attachment';
}

/** `attachment; filename="ascii fallback"; filename*=UTF-8''percent-encoded` */
export function contentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7E]/g, '_').replace(/["\\%]/g, '_');
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
