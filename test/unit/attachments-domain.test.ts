import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { contentDisposition, sanitizeFilename } from '../../src/modules/attachments/domain/filename.js';
import { sniffContentType, SniffInspector } from '../../src/modules/attachments/domain/sniff.js';

const sniff = (bytes: Buffer | string) => {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const inspector = new SniffInspector();
  inspector.push(buffer);
  return inspector.result(buffer.length);
};

describe('type sniffing', () => {
  test('magic numbers decide binary types', () => {
    assert.equal(sniff(Buffer.from('%PDF-1.7\n...')), 'application/pdf');
    assert.equal(sniff(Buffer.from('89504e470d0a1a0a0000', 'hex')), 'image/png');
    assert.equal(sniff(Buffer.from('ffd8ffe000104a464946', 'hex')), 'image/jpeg');
    assert.equal(sniff('GIF89a\x01\x00'), 'image/gif');
    assert.equal(sniff(Buffer.concat([Buffer.from('RIFF'), Buffer.from([1, 2, 3, 4]), Buffer.from('WEBPVP8 ')])), 'image/webp');
    assert.equal(sniff(Buffer.concat([Buffer.from('RIFF'), Buffer.from([1, 2, 3, 4]), Buffer.from('WAVEfmt ')])), null, 'RIFF but not WebP');
    assert.equal(sniff(Buffer.from('49492a0008000000', 'hex')), 'image/tiff');
    assert.equal(sniff(Buffer.from('4d4d002a00000008', 'hex')), 'image/tiff');
  });

  test('text: XML, CSV and plain text; binary junk, NULs and executables are refused', () => {
    assert.equal(sniff('<?xml version="1.0"?><Invoice/>'), 'application/xml');
    assert.equal(sniff('\uFEFF  <Invoice xmlns="urn:x">1</Invoice>'), 'application/xml');
    assert.equal(sniff('date,amount,memo\n2026-01-01,10.00,"a, b"\n2026-01-02,5.00,c\n'), 'text/csv');
    assert.equal(sniff('a;b\n1;2\n'), 'text/csv');
    assert.equal(sniff('Delivered in full, signed by J.\nThanks.\n'), 'text/plain');
    assert.equal(sniff('Grüße aus Köln\n'), 'text/plain');
    assert.equal(sniff(Buffer.from('7f454c46020101', 'hex')), null);
    assert.equal(sniff(Buffer.from('504b0304', 'hex')), null, 'zip (and so docx, xlsx) is not allowed');
    assert.equal(sniff(Buffer.from([0x68, 0x69, 0x00, 0x68])), null, 'a NUL byte is not text');
    assert.equal(sniff(Buffer.from([0xc3, 0x28])), null, 'invalid UTF-8 is not text');
    assert.equal(sniff(Buffer.alloc(0)), null, 'an empty file is not allowed');
  });

  test('a NUL anywhere in the file (not only in the sample) makes it not text', () => {
    const inspector = new SniffInspector();
    inspector.push(Buffer.alloc(5000, 0x61));
    inspector.push(Buffer.from([0]));
    assert.equal(inspector.result(5001), null);
  });

  test('a multi-byte character cut at the end of a partial sample is still text', () => {
    const sample = Buffer.from('ab€');
    assert.equal(sniffContentType(sample.subarray(0, 3), { containsNul: false, complete: false }), 'text/plain');
    assert.equal(sniffContentType(sample.subarray(0, 3), { containsNul: false, complete: true }), null);
  });
});

describe('file names', () => {
  test('directory parts, control characters and dots are dropped; never empty', () => {
    assert.equal(sanitizeFilename('../../etc/passwd'), 'passwd');
    assert.equal(sanitizeFilename('C:\\Users\\x\\scan.pdf'), 'scan.pdf');
    assert.equal(sanitizeFilename('bad\r\nname.pdf'), 'badname.pdf');
    assert.equal(sanitizeFilename('...'), 'attachment');
    assert.equal(sanitizeFilename(undefined), 'attachment');
    assert.equal([...sanitizeFilename('ä'.repeat(400))].length, 255);
  });

  test('Content-Disposition is always a safe header value that round-trips the name (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (given) => {
        const name = sanitizeFilename(given);
        const header = contentDisposition(name);
        assert.match(header, /^attachment; filename="[\x20-\x7E]*"; filename\*=UTF-8''[A-Za-z0-9!#$&+.^_`|~%-]*$/);
        const fallback = /filename="([^"]*)"/.exec(header)?.[1] ?? '';
        assert.ok(!fallback.includes('"') && !fallback.includes('\\'));
        const encoded = /filename\*=UTF-8''(.*)$/.exec(header)?.[1] ?? '';
        assert.equal(decodeURIComponent(encoded), name);
      }),
    );
  });
});
