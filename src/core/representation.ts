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
