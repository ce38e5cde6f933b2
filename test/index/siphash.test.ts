import { describe, expect, it } from 'vitest';
import { sipHash128 } from '../../src/index/siphash.js';

// Reference vectors (github.com/veorq/SipHash vectors.h): key 00..0f, message 00..(n-1).
const VECTORS_128 = [
  'a3817f04ba25a8e66df67214c7550293',
  'da87c1d86b99af44347659119b22fc45',
  '8177228da4a45dc7fca38bdef60affe4',
  '9c70b60c5267a94e5f33b6b02985ed51',
  'f88164c12d9c8faf7d0f6e7c7bcd5579',
];

// Past one 8-byte block, a whole block, and the longest vector.
const LONGER_128: [number, string][] = [
  [8, '3b62a9ba6258f5610f83e264f31497b4'],
  [15, '5493e99933b0a8117e08ec0f97cfc3d9'],
  [16, '6ee2a4ca67b054bbfd3315bf85230577'],
  [63, '5150d1772f50834a503e069a973fbd7c'],
];

describe('SipHash-2-4-128', () => {
  const key = Uint8Array.from({ length: 16 }, (_, i) => i);
  it.each([...VECTORS_128.map((hex, n) => [n, hex]), ...LONGER_128])('matches the reference tag for %i bytes', (n, hex) => {
    const message = Uint8Array.from({ length: n as number }, (_, i) => i);
    const out = Buffer.alloc(16);
    sipHash128(key, message, n as number, out);
    expect(out.toString('hex')).toBe(hex);
  });

  it('depends on every byte, on the length and on the key', () => {
    const tag = (k: Uint8Array, text: string) => {
      const data = Buffer.from(text);
      const out = Buffer.alloc(16);
      sipHash128(k, data, data.length, out);
      return out.toString('hex');
    };
    const tags = new Set(['i:001090000101', 'i:001090000102', 'i:00109000010', 'i:0010900001010', 'i:001090000101 '].map((t) => tag(key, t)));
    expect(tags.size).toBe(5);
    expect(tag(key, 'n:an nguyen|1990-05-17')).not.toBe(tag(Uint8Array.from({ length: 16 }, (_, i) => 15 - i), 'n:an nguyen|1990-05-17'));
  });
});
