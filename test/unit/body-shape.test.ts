import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assertJsonShape, jsonShapeScanner } from '../../src/http/body-shape.js';

const smallLimits = { maxMembers: 3, maxArrayItems: 4, maxValues: 12 };

/** The problem the scan throws (its detail), or null when the text passes. */
function verdict(feed: () => void): string | null {
  try {
    feed();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

describe('JSON shape scan', () => {
  test('fed in chunks split anywhere, as bytes or text, it decides exactly as on the whole text (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.array(fc.nat(), { maxLength: 6 }), (value, cuts) => {
        const text = JSON.stringify(value) ?? 'null';
        const bytes = Buffer.from(text);
        const whole = verdict(() => assertJsonShape(text, smallLimits));
        assert.equal(verdict(() => assertJsonShape(bytes, smallLimits)), whole);
        const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
        const scanner = jsonShapeScanner(smallLimits);
        const chunked = verdict(() => {
          let from = 0;
          for (const point of [...points, bytes.length]) {
            scanner.feed(bytes.subarray(from, point)); // a cut may fall inside a multi-byte character or an escape
            from = point;
          }
        });
        assert.equal(chunked, whole);
      }),
    );
  });

  test('commas, brackets and escaped quotes inside strings are not structure', () => {
    assert.doesNotThrow(() => assertJsonShape(JSON.stringify({ a: 'x,y,z,{,[,\\",,,,' }), smallLimits));
    assert.throws(() => assertJsonShape('{"a":1,"b":2,"c":3,"d":4}', smallLimits), /more than 3 members/);
    const scanner = jsonShapeScanner(smallLimits);
    scanner.feed('{"a":"\\');
    scanner.feed('",,,,,,"}'); // the escaped quote spans two chunks: the commas are still inside the string
  });
});
