/**
 * Topic offsets as tickwire writes them: `"<ms>-<n>"` for durable entries, `"<ms>-<n>.<k>"` for
 * an ephemeral frame after durable position `<ms>-<n>`. Compared numerically, part by part (a
 * string compare would put `"9-0"` after `"10-0"`). A seq is only comparable within its epoch.
 * @module
 */

const SEQ = /^(\d{1,16})(?:-(\d{1,16})(?:\.(\d{1,20}))?)?$/;

function parts(seq: string): [number, number, number] {
  const m = SEQ.exec(seq);
  if (!m) throw new TypeError(`not a seq: ${seq}`);
  // No `.k`: the durable entry itself, before every ephemeral frame that follows it.
  return [Number(m[1]), Number(m[2] ?? 0), m[3] === undefined ? -1 : Number(m[3])];
}

/** Negative if `a` is before `b`, 0 if equal, positive if after. */
export function compareSeq(a: string, b: string): number {
  const [am, an, ak] = parts(a);
  const [bm, bn, bk] = parts(b);
  return am - bm || an - bn || ak - bk;
}

/** The durable position of a seq: `"<ms>-<n>"` without an ephemeral frame's `.<k>`. */
export function durablePart(seq: string): string {
  const dot = seq.indexOf(".");
  return dot === -1 ? seq : seq.slice(0, dot);
}

export function isSeq(value: unknown): value is string {
  return typeof value === "string" && SEQ.test(value);
}
