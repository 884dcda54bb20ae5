import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as fontkit from 'fontkit';
import PDFDocument from 'pdfkit';
import { Dec } from '../../shared/money.js';
import type { Address } from '../invoices/domain/model.js';
import { formatMoney, formatNumber } from './format.js';
import { paymentReferenceFor } from './payment-reference.js';
import type { DocumentParty } from './seller.js';
import type { SourceDocument, SourceLine } from './source.js';

/**
 * The PDF of an invoice version or a credit note (pdfkit, A4). DejaVu Sans is embedded (subset)
 * so every European letter prints (ä ö ø € Ł…). Nothing time-dependent goes in: the creation
 * date is the document's issue date, so a version renders to the same bytes every time.
 */
const require = createRequire(import.meta.url);
const fontDir = `${require.resolve('dejavu-fonts-ttf/package.json').replace(/package\.json$/, '')}ttf/`;
/** pdfkit's decoded image: opened once, drawn on every page, embedded in the file once. */
type OpenedImage = { width: number; height: number };

// What pdfkit does and its type definitions (@types/pdfkit) do not name: a parsed fontkit font
// in place of font bytes, and images opened once (`openImage`) then drawn by reference.
declare global {
  namespace PDFKit {
    interface PDFDocument {
      openImage(src: Buffer): OpenedImage;
    }
    namespace Mixins {
      interface PDFFont {
        registerFont(name: string, src: fontkit.Font): this;
      }
      interface PDFImage {
        image(src: OpenedImage, x?: number, y?: number, options?: ImageOption): this;
      }
    }
  }
}

// Parsed once per process and shared: parsing the 700 kB font took most of a small PDF's render
// time. pdfkit accepts a fontkit font in place of bytes and subsets it per document.
type ParsedFont = fontkit.Font;
let fonts: { regular: ParsedFont; bold: ParsedFont } | null = null;
function parse(file: string): ParsedFont {
  const parsed = fontkit.create(readFileSync(`${fontDir}${file}`));
  if ('fonts' in parsed) throw new Error(`${file} is a font collection, not one font`);
  return parsed;
}
const loadFonts = () => (fonts ??= { regular: parse('DejaVuSans.ttf'), bold: parse('DejaVuSans-Bold.ttf') });

type Doc = PDFKit.PDFDocument;

const page = { margin: 50, width: 595.28, height: 841.89, headerHeight: 70, footerHeight: 30 };
const contentWidth = page.width - 2 * page.margin;
const bodyTop = page.margin + page.headerHeight;
const bodyBottom = page.height - page.margin - page.footerHeight;
const grey = '#555555';

interface Column {
  title: string;
  width: number;
  align: 'left' | 'right';
  cell: (line: SourceLine, source: SourceDocument) => string;
}

const columns: Column[] = [
  { title: 'Description', width: 155, align: 'left', cell: (line) => line.description ?? '' },
  { title: 'Qty', width: 50, align: 'right', cell: (line) => `${formatNumber(line.quantity)}${line.unit ? ` ${line.unit}` : ''}` },
  { title: 'Unit price', width: 62, align: 'right', cell: (line) => formatNumber(line.unitPrice) },
  { title: 'Disc.', width: 45, align: 'right', cell: (line) => line.discountLabel ?? '' },
  { title: 'Tax %', width: 38, align: 'right', cell: (line) => (line.taxRate === null ? '' : formatNumber(line.taxRate)) },
  { title: 'Tax', width: 65, align: 'right', cell: (line, source) => formatMoney(line.taxAmount, source.currency).replace(/ \w+$/, '') },
  { title: 'Net', width: 80, align: 'right', cell: (line, source) => formatMoney(line.netAmount, source.currency).replace(/ \w+$/, '') },
];
const cellPadding = 4;
const maxRowHeight = 300;
const rowFontSize = 8.5;

function titleOf(source: SourceDocument): string {
  if (source.kind === 'credit_note') return 'CREDIT NOTE';
  return 'INVOICE';
}

function addressLines(address: Address | null | undefined): string[] {
  if (!address) return [];
  const cityLine = [address.postal_code, address.city].filter(Boolean).join(' ');
  return [address.line1, address.line2, cityLine, address.region, address.country].filter((part): part is string => Boolean(part));
}

function openLogo(doc: Doc, bytes: Buffer | null): OpenedImage | null {
  if (!bytes) return null;
  try {
    return doc.openImage(bytes);
  } catch {
    return null; // An unreadable logo must not stop the document; the seller's name stands in.
  }
}

/** Header drawn on every page once the page count is known (logo, seller, title, number, page x/y). */
function drawPageChrome(doc: Doc, source: SourceDocument, party: DocumentParty, logo: OpenedImage | null, pageIndex: number, pageCount: number) {
  const top = page.margin;
  // pdfkit draws an opened image as well as bytes (typed above).
  if (logo) doc.image(logo, page.margin, top - 10, { fit: [110, 45] });
  const left = logo ? page.margin + 120 : page.margin;
  doc.font('Bold').fontSize(12).fillColor('black').text(party.seller.name ?? '', left, top, { width: 220, lineBreak: false, ellipsis: true });
  doc.font('Bold').fontSize(16).text(titleOf(source), page.margin, top - 4, { width: contentWidth, align: 'right', lineBreak: false });
  const subtitle = source.kind === 'credit_note'
    ? `${source.number ?? ''} · credits invoice ${source.precedingInvoice?.number ?? source.precedingInvoice?.id ?? ''}`
    : `${source.number ?? 'Draft (no number yet)'}`;
  doc.font('Body').fontSize(9).fillColor(grey).text(subtitle, page.margin, top + 16, { width: contentWidth, align: 'right', lineBreak: false });
  doc.moveTo(page.margin, top + page.headerHeight - 15).lineTo(page.width - page.margin, top + page.headerHeight - 15).strokeColor('#bbbbbb').lineWidth(0.5).stroke();

  // The footer lies below the bottom margin: lift the margin so pdfkit does not add a page.
  const bottomMargin = doc.page.margins.bottom;
  doc.page.margins.bottom = 0;
  doc.font('Body').fontSize(8).fillColor(grey).text(`Page ${pageIndex + 1} of ${pageCount}`, page.margin, page.height - page.margin, { width: contentWidth, align: 'right', lineBreak: false });
  doc.page.margins.bottom = bottomMargin;

  if (source.status === 'draft' || source.status === 'void') {
    doc.save();
    doc.rotate(-35, { origin: [page.width / 2, page.height / 2] });
    doc.font('Bold').fontSize(110).fillColor('#d9534f').fillOpacity(0.15);
    doc.text(source.status === 'draft' ? 'DRAFT' : 'VOID', 0, page.height / 2 - 60, { width: page.width, align: 'center', lineBreak: false });
    doc.restore();
  }
  doc.fillColor('black').fillOpacity(1);
}

function labelValue(doc: Doc, rows: [string, string | null | undefined][], x: number, y: number, width: number): number {
  let cursor = y;
  for (const [label, value] of rows) {
    if (!value) continue;
    doc.font('Body').fontSize(8.5).fillColor(grey).text(label, x, cursor, { width: 90, lineBreak: false });
    doc.fillColor('black').text(value, x + 90, cursor, { width: width - 90 });
    cursor = doc.y + 2;
  }
  return cursor;
}

function partyBlock(doc: Doc, title: string, lines: string[], x: number, y: number, width: number): number {
  doc.font('Bold').fontSize(9).fillColor(grey).text(title, x, y, { width });
  doc.font('Body').fontSize(9).fillColor('black');
  for (const line of lines) doc.text(line, { width });
  return doc.y;
}

function drawTableHeader(doc: Doc, y: number): number {
  let x = page.margin;
  doc.font('Bold').fontSize(rowFontSize).fillColor('black');
  for (const column of columns) {
    doc.text(column.title, x + cellPadding, y, { width: column.width - 2 * cellPadding, align: column.align, lineBreak: false });
    x += column.width;
  }
  const bottom = y + 14;
  doc.moveTo(page.margin, bottom).lineTo(page.width - page.margin, bottom).strokeColor('#888888').lineWidth(0.5).stroke();
  return bottom + 4;
}

function drawLines(doc: Doc, source: SourceDocument, startY: number): number {
  let y = drawTableHeader(doc, startY);
  const description = columns[0]!;
  for (const line of source.lines) {
    doc.font('Body').fontSize(rowFontSize);
    const text = description.cell(line, source);
    // A row never outgrows a page: a very long description is cut (with …) on the PDF; the XML keeps it whole.
    const textHeight = Math.min(doc.heightOfString(text || ' ', { width: description.width - 2 * cellPadding }), maxRowHeight);
    const height = Math.max(textHeight, rowFontSize + 2) + 4;
    if (y + height > bodyBottom) {
      doc.addPage();
      y = drawTableHeader(doc, bodyTop);
      doc.font('Body').fontSize(rowFontSize);
    }
    let x = page.margin;
    for (const column of columns) {
      const options = column === description
        ? { width: column.width - 2 * cellPadding, align: column.align, height: textHeight, ellipsis: true }
        : { width: column.width - 2 * cellPadding, align: column.align, lineBreak: false };
      doc.text(column.cell(line, source), x + cellPadding, y, options);
      x += column.width;
    }
    y += height;
  }
  return y;
}

/** Keeps a block of `height` points on the current page, or starts a new one. */
function ensureRoom(doc: Doc, y: number, height: number): number {
  if (y + height <= bodyBottom) return y;
  doc.addPage();
  return bodyTop;
}

function drawTotals(doc: Doc, source: SourceDocument, startY: number): number {
  const money = (amount: string) => formatMoney(amount, source.currency);
  const rows: [string, string, boolean][] = [['Subtotal', money(source.subtotal), false]];
  if (!new Dec(source.discountTotal).isZero()) rows.push(['Discounts included', money(source.discountTotal), false]);
  rows.push(['Tax', money(source.taxTotal), false], ['Total', money(source.total), true]);
  if (!new Dec(source.amountPaid).isZero()) rows.push(['Paid', money(source.amountPaid), false]);
  if (!new Dec(source.amountCredited).isZero()) rows.push(['Credited', money(source.amountCredited), false]);
  rows.push([source.kind === 'credit_note' ? 'Amount credited' : 'Amount due', money(source.amountDue), true]);

  const breakdownHeight = 16 + 12 * source.taxBreakdown.length;
  let y = ensureRoom(doc, startY + 10, Math.max(breakdownHeight, 14 * rows.length) + 10);
  // Tax breakdown on the left, totals on the right.
  const left = page.margin;
  doc.font('Bold').fontSize(8.5).fillColor('black');
  doc.text('Tax rate', left, y, { width: 60, lineBreak: false });
  doc.text('Taxable', left + 60, y, { width: 90, align: 'right', lineBreak: false });
  doc.text('Tax', left + 150, y, { width: 80, align: 'right', lineBreak: false });
  doc.font('Body');
  let breakdownY = y + 14;
  for (const row of source.taxBreakdown) {
    doc.text(`${formatNumber(row.tax_rate)} %`, left, breakdownY, { width: 60, lineBreak: false });
    doc.text(money(row.taxable_amount), left + 60, breakdownY, { width: 90, align: 'right', lineBreak: false });
    doc.text(money(row.tax_amount), left + 150, breakdownY, { width: 80, align: 'right', lineBreak: false });
    breakdownY += 12;
  }
  const right = page.width - page.margin - 230;
  for (const [label, value, strong] of rows) {
    doc.font(strong ? 'Bold' : 'Body').fontSize(strong ? 10 : 8.5);
    doc.text(label, right, y, { width: 110, lineBreak: false });
    doc.text(value, right + 110, y, { width: 120, align: 'right', lineBreak: false });
    y += strong ? 15 : 13;
  }
  return Math.max(y, breakdownY);
}

function drawPaymentAndNotes(doc: Doc, source: SourceDocument, party: DocumentParty, startY: number) {
  const { seller } = party;
  const rows: [string, string | null | undefined][] = source.kind === 'invoice'
    ? [
        ['Pay to IBAN', seller.iban],
        ['BIC', seller.bic],
        ['Payment reference', paymentReferenceFor(source).value],
        ['Due date', source.dueDate],
      ]
    : [['Reason', source.creditReason]];
  let y = ensureRoom(doc, startY + 12, 60);
  y = labelValue(doc, rows, page.margin, y, contentWidth);
  if (source.memo) {
    const height = doc.heightOfString(source.memo, { width: contentWidth }) + 20;
    y = ensureRoom(doc, y + 8, Math.min(height, bodyBottom - bodyTop));
    doc.font('Bold').fontSize(9).fillColor(grey).text('Notes', page.margin, y, { width: contentWidth });
    doc.font('Body').fontSize(9).fillColor('black').text(source.memo, { width: contentWidth });
  }
}

export function renderPdf(source: SourceDocument, party: DocumentParty): Promise<Buffer> {
  const { regular, bold } = loadFonts();
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: bodyTop, bottom: page.margin + page.footerHeight, left: page.margin, right: page.margin },
    bufferPages: true,
    autoFirstPage: true,
    info: {
      Title: `${titleOf(source)} ${source.number ?? source.id}`,
      Producer: 'Folio',
      Creator: 'Folio',
      // Fixed per document (its issue date), never the render time.
      CreationDate: new Date(`${source.issueDate}T00:00:00Z`),
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const finished = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.registerFont('Body', regular);
  doc.registerFont('Bold', bold);

  const { seller } = party;
  const buyer = source.billTo;
  const sellerLines = [...addressLines(seller.address), seller.vat_id ? `VAT ${seller.vat_id}` : '', seller.business_id ? `Business ID ${seller.business_id}` : '', seller.email ?? '', seller.phone ?? ''].filter(Boolean);
  const buyerLines = [buyer?.name ?? '', ...addressLines(buyer?.address), buyer?.tax_id ? `VAT ${buyer.tax_id}` : '', buyer?.email ?? ''].filter(Boolean);
  const half = contentWidth / 2 - 10;
  const sellerBottom = partyBlock(doc, 'From', [seller.name ?? '', ...sellerLines].filter(Boolean), page.margin, bodyTop, half);
  const buyerBottom = partyBlock(doc, source.kind === 'credit_note' ? 'Credited to' : 'Bill to', buyerLines, page.margin + half + 20, bodyTop, half);

  const details: [string, string | null | undefined][] = [
    ['Number', source.number ?? 'Draft (no number yet)'],
    ['Credits invoice', source.precedingInvoice ? (source.precedingInvoice.number ?? source.precedingInvoice.id) : null],
    ['Issue date', source.issueDate],
    ['Due date', source.dueDate],
    ['Payment terms', source.netDays === null ? null : `Net ${source.netDays} days`],
    ['Reference', source.reference],
    ['Purchase order', source.purchaseOrder],
    ['Version', source.version === null ? null : String(source.version)],
  ];
  let y = labelValue(doc, details, page.margin, Math.max(sellerBottom, buyerBottom) + 14, half + 40);
  y = drawLines(doc, source, y + 12);
  y = drawTotals(doc, source, y);
  drawPaymentAndNotes(doc, source, party, y);

  const range = doc.bufferedPageRange();
  const logo = openLogo(doc, party.logo);
  for (let index = 0; index < range.count; index++) {
    doc.switchToPage(range.start + index);
    drawPageChrome(doc, source, party, logo, index, range.count);
  }
  doc.end();
  return finished;
}
