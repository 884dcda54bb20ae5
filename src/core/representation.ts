import { Type, type TSchema } from '@sinclair/typebox';

/**
 * How a resource is represented: JSON or XML (request body and response, by Content-Type and
 * Accept) and `?fields=` selection. A route opts in with one line in its config:
 *
 *     config: { scope: 'invoices:read', representation: invoiceRepresentation }
 *
 * and then returns/sends the plain JSON model as usual; the hooks installed by
 * installRepresentations() (src/http/representation.ts) do the rest (see docs/attachments-xml-fields.md).
 */
export interface Representation {
  /** The JSON schema of one resource; `fields` are checked against it. */
  schema: TSchema;
  /** The XML document element for one resource (and for request bodies). */
  xmlRoot: string;
  /** For list bodies ({ data: [...] }): the document element of the list; fields apply per item. */
  listXmlRoot?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Opt in to JSON/XML negotiation and ?fields= selection for this route's responses. */
    representation?: Representation;
  }
}

/** The query parameter, for route querystring schemas (documents it in OpenAPI). */
export const FieldsQuery = {
  fields: Type.Optional(
    Type.String({
      maxLength: 2000,
      description: 'Comma-separated fields to return, dotted for nested ones: number,total,lines.description. `id` is always kept.',
    }),
  ),
};

/** For route schemas of opted-in routes: lists the XML media types in the OpenAPI document. */
export const xmlContentTypes = {
  consumes: ['application/json', 'application/xml'],
  produces: ['application/json', 'application/xml'],
};

/** True when the Accept header prefers XML over JSON (JSON wins ties and wildcards). */
export function prefersXml(accept: string | undefined): boolean {
  if (!accept) return false;
  let xml = 0;
  let json = 0;
  let wildcard = 0;
  for (const part of accept.split(',')) {
    const [rawType, ...params] = part.split(';');
    const type = rawType.trim().toLowerCase();
    const qParam = params.map((param) => param.trim()).find((param) => param.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) || 0 : 1;
    if (type === 'application/xml' || type === 'text/xml' || type === 'application/problem+xml') xml = Math.max(xml, q);
    else if (type === 'application/json' || type === 'application/problem+json') json = Math.max(json, q);
    else if (type === '*/*' || type === 'application/*') wildcard = Math.max(wildcard, q);
  }
  return xml > 0 && xml > json && xml >= wildcard;
}
