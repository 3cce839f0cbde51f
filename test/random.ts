// Seeded pseudo-random values for tests, so that a failure can be replayed. No imports: the unit,
// workers (workerd) and e2e projects all use it.

/** mulberry32: 32-bit unsigned integers. */
function seededUint32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  const next = seededUint32(seed);
  return () => next() / 4294967296;
}

/** Doubles from random bit patterns: every exponent, denormals included, no NaN or Infinity. */
export function randomDoubles(count: number, seed: number): number[] {
  const next = seededUint32(seed);
  const view = new DataView(new ArrayBuffer(8));
  const out: number[] = [];
  while (out.length < count) {
    view.setUint32(0, next());
    view.setUint32(4, next());
    const value = view.getFloat64(0);
    if (Number.isFinite(value)) out.push(value);
  }
  return out;
}
