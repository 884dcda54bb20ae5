import { Type, type TSchema } from '@sinclair/typebox';

/** Decimal strings in requests may also be JSON numbers; both are read exactly. */
export const decimalPattern = '^[+-]?\\d+(\\.\\d+)?([eE][+-]?\\d+)?$';

export const DecimalInput = Type.Union([Type.String({ pattern: decimalPattern, maxLength: 64 }), Type.Number()], {
  description: 'A decimal as a string ("12.50") or a JSON number; read exactly, never as a float.',
});

export const DecimalOutput = Type.String({ description: 'A decimal as a string, e.g. "1234.50".', examples: ['1234.50'] });

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const NullableText = (maxLength: number) => Nullable(Type.String({ maxLength }));

export const BusinessDate = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'A date, YYYY-MM-DD.' });

export const Timestamp = Type.String({ description: 'RFC 3339 UTC timestamp.' });

export const IdString = Type.String({ minLength: 1, maxLength: 64 });

export const StringMap = (options: { maxKeys: number; maxKeyLength: number; maxValueLength: number }) =>
  Type.Record(Type.String(), Type.String({ maxLength: options.maxValueLength }), {
    maxProperties: options.maxKeys,
    propertyNames: { minLength: 1, maxLength: options.maxKeyLength },
  });

/** A map in a write: a key set to null is removed (PATCH); the map set to null clears it. */
export const StringMapPatch = (options: { maxKeys: number; maxKeyLength: number; maxValueLength: number }) =>
  Type.Record(Type.String(), Nullable(Type.String({ maxLength: options.maxValueLength })), {
    maxProperties: options.maxKeys,
    propertyNames: { minLength: 1, maxLength: options.maxKeyLength },
  });

export const FieldErrorSchema = Type.Object({
  pointer: Type.String(),
  detail: Type.String(),
  expected: Type.Optional(Type.String()),
});

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(FieldErrorSchema)),
    accepted_media_types: Type.Optional(Type.Array(Type.String(), { description: 'On a 415: the media types the operation accepts as a body.' })),
  },
  { additionalProperties: true, description: 'RFC 9457 problem details' },
);

export const ListQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
};

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ maxLength: 100 })),
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  'x-change-reason': Type.Optional(Type.String({ maxLength: 500 })),
});
