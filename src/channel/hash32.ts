/**
 * A fast, well-mixed 32-bit string hash: FNV-1a over the UTF-16 code units
 * followed by MurmurHash3's `fmix32` finaliser (for avalanche, so that
 * similar keys such as `url_1`, `url_2` land far apart on a hash ring).
 * Returns an unsigned integer in [0, 2³²).
 */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
