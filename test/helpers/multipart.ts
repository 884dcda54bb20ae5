import { randomBytes } from 'node:crypto';

/** A multipart/form-data body with one file part (for inject-based tests). */
export function multipartBody(file: { filename: string; contentType: string; bytes: Buffer }, fieldName = 'file') {
  const boundary = `----folio${randomBytes(8).toString('hex')}`;
  const { head, tail } = multipartFrame(boundary, file.filename, file.contentType, fieldName);
  return {
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload: Buffer.concat([head, file.bytes, tail]),
  };
}

/** The bytes around one file part, so a large file can be streamed between them. */
export function multipartFrame(boundary: string, filename: string, contentType: string, fieldName = 'file') {
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${fieldName}"; filename="${filename}"\r\nContent-Type: ${contentType}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { head, tail };
}

/** A tiny valid PNG (1×1). */
export const pngBytes = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
);
export const pdfBytes = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
