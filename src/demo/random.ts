// A small seeded PRNG and the latency distributions the demo target draws from, so runs reproduce.

/** Random draws from one seeded sequence. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** A float in [min, max). */
  uniform(min: number, max: number): number;
  /** An integer in [min, max], both ends included. */
  int(min: number, max: number): number;
  /** True with probability `p` (0 → never, 1 → always). */
  chance(p: number): boolean;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
}

/**
 * mulberry32: 32 bits of state, fast, and plenty good for jitter and error injection.
 * Not for anything secret — session tokens come from node:crypto instead.
 */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + Math.floor((max - min + 1) * next()),
    // `< p` makes p = 0 never true and p = 1 always true, since next() < 1.
    chance: (p) => next() < p,
    pick<T>(items: readonly T[]): T {
      const item = items[Math.floor(items.length * next())];
      if (item === undefined) throw new RangeError('pick() needs a non-empty array');
      return item;
    },
  };
}

/** A latency distribution in milliseconds: a uniform body plus an optional rare slow tail. */
export interface Latency {
  min: number;
  max: number;
  /** Probability of a tail draw (e.g. 0.03 = 3 % of requests are slow). */
  tailChance?: number;
  /** Tail draws multiply the body by a factor in [tailMin, tailMax]. */
  tailMin?: number;
  tailMax?: number;
}

/** Draws one delay in ms. Always consumes the same number of draws, so the sequence stays aligned. */
export function drawLatency(random: Random, latency: Latency): number {
  const body = random.uniform(latency.min, latency.max);
  const tail = random.next();
  const factor = random.uniform(latency.tailMin ?? 1, latency.tailMax ?? 1);
  return tail < (latency.tailChance ?? 0) ? body * factor : body;
}
