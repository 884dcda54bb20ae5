import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

/**
 * Fastify's response serializer (fast-json-stringify), given response schemas in which every
 * `anyOf: [S, { type: 'null' }]` (TypeBox's `Nullable(S)`) is rewritten to `S` with
 * `nullable: true`. fast-json-stringify serializes an `anyOf` by running an Ajv validator per
 * option on every value to pick the branch — about a hundred validator calls for one 10-line
 * invoice, the largest part of serializing it; `nullable` is a plain `=== null` test. The output
 * is the same for every value the schema allows. Only the serializer sees the rewritten copy: the
 * routes' schemas (validation, OpenAPI, the generated client) are untouched.
 */
export function nullableSerializerFactory(): ReturnType<typeof SerializerSelector> {
  const buildSerializer = SerializerSelector();
  return (externalSchemas, options) => {
    const compile = buildSerializer(externalSchemas, options);
    return (route) => compile({ ...route, schema: nullableForSerialization(route.schema) });
  };
}

type Json = Record<string, unknown>;

/** Keys that hold data, not schemas: never rewritten. */
const dataKeys = new Set(['examples', 'example', 'default', 'const', 'enum']);
/** Keys that may sit beside a rewritten `anyOf` without changing what it accepts. */
const annotationKeys = new Set(['description', 'title', 'examples', 'example', 'deprecated', 'readOnly', 'writeOnly']);
/** Option keywords that `nullable` cannot carry over (fast-json-stringify would serialize them differently). */
const combinatorKeys = ['anyOf', 'oneOf', 'allOf', 'not', '$ref', 'if', 'const', 'nullable'];

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);
const isNullSchema = (value: unknown) => isObject(value) && value.type === 'null' && Object.keys(value).every((key) => key === 'type' || annotationKeys.has(key));

/** A copy of `schema` with every nullable union of one simple type rewritten (see above). */
export function nullableForSerialization(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(nullableForSerialization);
  if (!isObject(schema)) return schema;
  const copy: Json = {};
  for (const [key, value] of Object.entries(schema)) copy[key] = dataKeys.has(key) ? value : nullableForSerialization(value);
  return simplifyNullableUnion(copy);
}

function simplifyNullableUnion(schema: Json): Json {
  const options = schema.anyOf;
  if (!Array.isArray(options) || options.length !== 2) return schema;
  if (!Object.keys(schema).every((key) => key === 'anyOf' || annotationKeys.has(key))) return schema;
  const nullIndex = options.findIndex(isNullSchema);
  if (nullIndex === -1) return schema;
  const other = options[1 - nullIndex];
  if (!isObject(other) || typeof other.type !== 'string' || other.type === 'null') return schema;
  if (combinatorKeys.some((key) => key in other)) return schema;
  const { anyOf: _union, ...annotations } = schema;
  return { ...annotations, ...other, nullable: true };
}
