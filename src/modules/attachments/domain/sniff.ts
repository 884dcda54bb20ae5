/**
 * Decides an attachment's type from its bytes only (the client's Content-Type and the file
 * name's extension are never trusted). Pure. A small magic-number table covers the binary
 * formats invoices come with; XML, CSV and plain text are recognised as UTF-8 text.
 * Anything else is not allowed (415).
 */
export const sniffSampleBytes = 4096;

export const allowedContentTypes = [
  'application/pdf',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/tiff',
  'application/xml',
  'text/csv',
  'text/plain',
] as const;
export type AllowedContentType = (typeof allowedContentTypes)[number];

interface MagicRule {
  type: AllowedContentType;
  /** Bytes that must appear at `offset`. */
  bytes: number[];
  offset?: number;
  /** A second signature that must also match (WebP: RIFF....WEBP). */
  also?: { bytes: number[]; offset: number };
}

const ascii = (text: string) => [...text].map((char) => char.charCodeAt(0));

const magicTable: MagicRule[] = [
  { type: 'application/pdf', bytes: ascii('%PDF-') },
  { type: 'image/png', bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: 'image/jpeg', bytes: [0xff, 0xd8, 0xff] },
  { type: 'image/gif', bytes: ascii('GIF87a') },
  { type: 'image/gif', bytes: ascii('GIF89a') },
  { type: 'image/webp', bytes: ascii('RIFF'), also: { bytes: ascii('WEBP'), offset: 8 } },
  { type: 'image/tiff', bytes: [0x49, 0x49, 0x2a, 0x00] },
  { type: 'image/tiff', bytes: [0x4d, 0x4d, 0x00, 0x2a] },
];

const matchesAt = (sample: Uint8Array, bytes: number[], offset: number) =>
  sample.length >= offset + bytes.length && bytes.every((byte, index) => sample[offset + index] === byte);

/** Collects what sniffing needs while the bytes stream past: the first bytes and whether any NUL occurred. */
export class SniffInspector {
  private readonly head: Buffer[] = [];
  private headLength = 0;
  private sawNul = false;

  push(chunk: Buffer): void {
    if (this.headLength < sniffSampleBytes) {
      const part = chunk.subarray(0, sniffSampleBytes - this.headLength);
      this.head.push(part);
      this.headLength += part.length;
    }
    if (!this.sawNul && chunk.includes(0)) this.sawNul = true;
  }

  /** The allowed type these bytes are, or null when they are none of the allowed types. */
  result(totalBytes: number): AllowedContentType | null {
    return sniffContentType(Buffer.concat(this.head), { containsNul: this.sawNul, complete: totalBytes <= this.headLength });
  }
}

/**
 * `sample` is the first bytes (up to sniffSampleBytes); `containsNul` says whether the whole
 * file holds a NUL byte (text never does); `complete` whether the sample is the whole file.
 */
export function sniffContentType(sample: Uint8Array, facts: { containsNul: boolean; complete: boolean }): AllowedContentType | null {
  for (const rule of magicTable) {
    if (matchesAt(sample, rule.bytes, rule.offset ?? 0) && (!rule.also || matchesAt(sample, rule.also.bytes, rule.also.offset))) return rule.type;
  }
  if (sample.length === 0 || facts.containsNul) return null;
  const text = decodeUtf8(sample, facts.complete);
  if (text === null || hasControlCharacters(text)) return null;
  const start = text.replace(/^\uFEFF/, '').trimStart();
  if (start.startsWith('<?xml') || /^<[A-Za-z_][\w.:-]*[\s>/]/.test(start)) return 'application/xml';
  if (looksLikeCsv(text)) return 'text/csv';
  return 'text/plain';
}

/** Strict UTF-8; a multi-byte character cut by the end of a partial sample is allowed. */
function decodeUtf8(sample: Uint8Array, complete: boolean): string | null {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let cut = 0; cut <= (complete ? 0 : 3) && cut < sample.length; cut++) {
    try {
      return decoder.decode(sample.subarray(0, sample.length - cut));
    } catch {
      // try a shorter prefix
    }
  }
  return null;
}

// Tab, LF, FF and CR are text; other C0 controls and DEL are not.
// biome-ignore lint/suspicious/noControlCharactersInRegex: detecting control characters is the point
const hasControlCharacters = (text: string) => /[\u0001-\u0008\u000B\u000E-\u001F\u007F]/.test(text);

/** At least two lines that all split into the same number (≥ 2) of fields on , or ; or tab. */
function looksLikeCsv(text: string): boolean {
  const lines = text.split(/\r?\n/).filter((line) => line.length > 0);
  if (lines.length > 1 && !text.endsWith('\n')) lines.pop(); // the last line may be cut by the sample
  if (lines.length < 2) return false;
  return [',', ';', '\t'].some((delimiter) => {
    const counts = lines.map((line) => countOutsideQuotes(line, delimiter));
    return counts[0] > 0 && counts.every((count) => count === counts[0]);
  });
}

function countOutsideQuotes(line: string, delimiter: string): number {
  let count = 0;
  let quoted = false;
  for (const char of line) {
    if (char === '"') quoted = !quoted;
    else if (char === delimiter && !quoted) count++;
  }
  return count;
}

/** The Content-Type a download is served with. */
export const servedContentType = (type: string) => (type.startsWith('text/') || type === 'application/xml' ? `${type}; charset=utf-8` : type);
