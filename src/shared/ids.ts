import { randomBytes, randomFillSync } from 'node:crypto';

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

function encodeTime(ms: number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out = alphabet[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

/**
 * Random bytes are drawn from the OS 4 KiB at a time and handed out once each (as
 * crypto.randomUUID does): one randomFillSync per id was the top Node-internal frame of a PATCH.
 */
const randomPoolBytes = 4096;
const randomPool = Buffer.alloc(randomPoolBytes);
let randomPoolOffset = randomPoolBytes;

function randomChars(length: number): string {
  if (length > randomPoolBytes) return encodeRandom(randomBytes(length), 0, length);
  if (randomPoolOffset + length > randomPoolBytes) {
    randomFillSync(randomPool);
    randomPoolOffset = 0;
  }
  const start = randomPoolOffset;
  randomPoolOffset += length;
  return encodeRandom(randomPool, start, length);
}

function encodeRandom(bytes: Uint8Array, start: number, length: number): string {
  let out = '';
  for (let i = start; i < start + length; i++) out += alphabet[bytes[i] % 32];
  return out;
}

/**
 * Opaque, type-prefixed ids ("inv_…"). The first 10 characters encode the creation time,
 * so ids sort roughly by creation and make cheap, stable pagination cursors; 16 random
 * characters (80 bits) make them unguessable.
 */
export function newId(prefix: string): string {
  return `${prefix}_${encodeTime(Date.now(), 10)}${randomChars(16)}`;
}

export function randomToken(length: number): string {
  return randomChars(length);
}

export const idPattern = (prefix: string) => `^${prefix}_[0-9a-z]{26}$`;
