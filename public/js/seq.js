/**
 * Topic offsets as the server writes them, `"<ms>-<n>"` (SPEC §3), compared numerically, part
 * by part; a plain string compare would put `"9-0"` after `"10-0"`.
 * @module
 */

export function compareSeq(a, b) {
  const [am, an] = a.split("-").map(Number);
  const [bm, bn] = b.split("-").map(Number);
  return am - bm || an - bn;
}
