import fc from 'fast-check';

/**
 * fast-check arbitraries generated from the JSON Schemas of an OpenAPI document, so that
 * every write route (including ones added later) is fuzzed without hand-written generators.
 * Values mostly follow the schema (to reach the deep validation and domain code) and are
 * sometimes replaced by arbitrary JSON (to hit the edges of every field).
 */
type JsonSchema = Record<string, any>;

export interface SchemaArbitraryOptions {
  /** The OpenAPI document, to resolve `$ref`s. */
  document: JsonSchema;
  /** Values to draw from for properties with these names (e.g. known ids), besides generated ones. */
  hints?: Record<string, unknown[]>;
  /** Longest generated array (schemas allow up to 1000 lines; fuzzing needs a few). */
  maxItems?: number;
  /** Chance (1/n) that a value is replaced by arbitrary JSON. */
  junkOneIn?: number;
}

const hostileStrings = [
  '', ' ', '\u0000', 'NaN', 'Infinity', '-Infinity', '1e309', '-0', '0x10', '1_000', '١٢٣', '𝟙𝟚𝟛', '\uD800', '\uFFFF',
  '9'.repeat(70), '0.' + '0'.repeat(60) + '1', '1e-400', '1e400', '2026-02-30', '0000-00-00', '9999-99-99',
  "'; DROP TABLE invoices; --", '<script>alert(1)</script>', '${7*7}', '../../etc/passwd', '__proto__', 'constructor',
];

export function jsonJunk(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom<unknown>(...hostileStrings),
    fc.constantFrom<unknown>(-1, 0, 1e21, -1e21, Number.MAX_SAFE_INTEGER, 2 ** 53 + 1, 0.1, -0.5, 1e-7, true, false, null, [], {}),
  );
}

export function arbitraryFromSchema(schema: JsonSchema, options: SchemaArbitraryOptions): fc.Arbitrary<unknown> {
  const maxItems = options.maxItems ?? 4;
  const junkOneIn = options.junkOneIn ?? 12;

  function resolve(node: JsonSchema): JsonSchema {
    if (typeof node.$ref !== 'string') return node;
    const path = node.$ref.replace(/^#\//, '').split('/');
    let target: any = options.document;
    for (const part of path) target = target?.[part];
    return target ? resolve(target) : {};
  }

  function build(raw: JsonSchema, depth: number, propertyName?: string): fc.Arbitrary<unknown> {
    const node = resolve(raw);
    const hinted = propertyName ? options.hints?.[propertyName] : undefined;
    const core = buildCore(node, depth);
    const withHints = hinted && hinted.length > 0 ? fc.oneof(core, fc.constantFrom(...hinted)) : core;
    return fc.oneof({ weight: junkOneIn - 1, arbitrary: withHints }, { weight: 1, arbitrary: jsonJunk() });
  }

  function buildCore(node: JsonSchema, depth: number): fc.Arbitrary<unknown> {
    const branches = node.anyOf ?? node.oneOf;
    if (Array.isArray(branches)) return fc.oneof(...branches.map((branch: JsonSchema) => build(branch, depth)));
    if (node.const !== undefined) return fc.constant(node.const);
    if (Array.isArray(node.enum)) return fc.constantFrom(...node.enum);
    const type = Array.isArray(node.type) ? node.type[0] : node.type;
    switch (type) {
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'integer':
        return fc.integer({ min: node.minimum ?? -1_000_000, max: node.maximum ?? 1_000_000 });
      case 'number':
        return fc.oneof(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.double({ noNaN: true, noDefaultInfinity: true }));
      case 'string':
        return stringArbitrary(node);
      case 'array':
        return depth > 4 ? fc.constant([]) : fc.array(build(node.items ?? {}, depth + 1), { maxLength: Math.min(node.maxItems ?? maxItems, maxItems) });
      case 'object':
        return objectArbitrary(node, depth);
      default:
        return jsonJunk();
    }
  }

  function stringArbitrary(node: JsonSchema): fc.Arbitrary<string> {
    const maxLength = Math.min(node.maxLength ?? 40, 80);
    if (typeof node.pattern === 'string') {
      return fc.oneof(fc.stringMatching(new RegExp(node.pattern)), fc.string({ maxLength }));
    }
    if (node.format === 'date-time') return fc.date({ noInvalidDate: true }).map((date) => date.toISOString());
    return fc.oneof({ weight: 4, arbitrary: fc.string({ minLength: node.minLength ?? 0, maxLength }) }, { weight: 1, arbitrary: fc.constantFrom(...hostileStrings) });
  }

  function objectArbitrary(node: JsonSchema, depth: number): fc.Arbitrary<unknown> {
    if (depth > 4) return fc.constant({});
    const properties: Record<string, JsonSchema> = node.properties ?? {};
    const model: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [name, schema] of Object.entries(properties)) model[name] = build(schema, depth + 1, name);
    const known = fc.record(model, { requiredKeys: (node.required ?? []).filter((name: string) => name in model) });
    const valueSchema = node.patternProperties ? Object.values<JsonSchema>(node.patternProperties)[0] : typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined;
    const extraKeys = valueSchema
      ? fc.dictionary(fc.string({ minLength: 1, maxLength: 45 }), build(valueSchema, depth + 1), { maxKeys: 4 })
      : fc.oneof({ weight: 9, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 10 }), jsonJunk(), { maxKeys: 2 }) });
    return fc.tuple(known, extraKeys).map(([fields, extra]) => ({ ...extra, ...fields }));
  }

  return build(schema, 0);
}
