import { Type, type Static } from '@sinclair/typebox';
import { IdString, ListQuery, NullableText, Nullable, StringMap, StringMapPatch, Timestamp } from '../../core/schema-helpers.js';

const AddressSchema = Type.Object(
  {
    line1: Type.Optional(NullableText(200)),
    line2: Type.Optional(NullableText(200)),
    city: Type.Optional(NullableText(100)),
    region: Type.Optional(NullableText(100)),
    postal_code: Type.Optional(NullableText(20)),
    country: Type.Optional(Nullable(Type.String({ pattern: '^[A-Z]{2}$' }))),
  },
  { additionalProperties: false },
);

const metadataLimits = { maxKeys: 50, maxKeyLength: 40, maxValueLength: 500 };

const customerFields = {
  email: Type.Optional(NullableText(254)),
  phone: Type.Optional(NullableText(50)),
  tax_id: Type.Optional(NullableText(50)),
  address: Type.Optional(Nullable(AddressSchema)),
  language: Type.Optional(NullableText(35)),
  metadata: Type.Optional(Nullable(StringMapPatch(metadataLimits))),
};

export const CustomerCreateSchema = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200 }), ...customerFields },
  { additionalProperties: false },
);
export type CustomerCreate = Static<typeof CustomerCreateSchema>;

export const CustomerPatchSchema = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), ...customerFields },
  { additionalProperties: false },
);
export type CustomerPatch = Static<typeof CustomerPatchSchema>;

export const CustomerSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('customer'),
    name: Type.String(),
    email: Nullable(Type.String()),
    phone: Nullable(Type.String()),
    tax_id: Nullable(Type.String()),
    address: Nullable(Type.Record(Type.String(), Nullable(Type.String()))),
    language: Nullable(Type.String()),
    metadata: StringMap(metadataLimits),
    version: Type.Integer(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  {},
);

export const CustomerListQuery = Type.Object({ ...ListQuery }, { additionalProperties: false });
export type CustomerListQuery = Static<typeof CustomerListQuery>;
export const CustomerIdParams = Type.Object({ id: IdString });
