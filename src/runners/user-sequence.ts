// Which user class the n-th spawned user belongs to: fixed counts first, then a smooth weighted interleave.

/** The dispatch-relevant facts of one user class. */
export interface ClassWeight {
  name: string;
  weight: number;
  /** Exactly this many users (spawned first); 0 = weighted. */
  fixedCount: number;
}

/**
 * Builds the order in which users are spawned, so that any prefix of length n is the best split of
 * n users by the classes' weights (Locust's dispatcher semantics): `fixedCount` classes are filled
 * first, then weighted classes interleave smoothly (weights 5:1 give A A A B A A …, never AAAAAB).
 * Ramping down removes from the end, so the split stays right at every count.
 */
export class UserSequence {
  private readonly fixed: string[];
  private readonly weighted: readonly ClassWeight[];
  private readonly cache: string[] = [];
  private readonly current: number[];
  private readonly totalWeight: number;

  constructor(classes: readonly ClassWeight[], equalWeights = false) {
    const fixedClasses = classes.filter((c) => c.fixedCount > 0);
    this.weighted = classes.filter((c) => c.fixedCount <= 0).map((c) => (equalWeights ? { ...c, weight: 1 } : c));
    this.fixed = smoothInterleave(fixedClasses.map((c) => ({ name: c.name, weight: c.fixedCount })), fixedClasses.reduce((s, c) => s + c.fixedCount, 0));
    this.current = this.weighted.map(() => 0);
    this.totalWeight = this.weighted.reduce((s, c) => s + c.weight, 0);
  }

  /** Class name of the user at position `index` (0-based), or undefined past the fixed users when no class is weighted. */
  at(index: number): string | undefined {
    if (index < this.fixed.length) return this.fixed[index];
    const i = index - this.fixed.length;
    while (this.cache.length <= i) {
      const next = this.nextWeighted();
      if (next === undefined) return undefined;
      this.cache.push(next);
    }
    return this.cache[i];
  }

  /** Users per class for the first `count` positions. */
  countsFor(count: number): Record<string, number> {
    const counts: Record<string, number> = {};
    for (let i = 0; i < count; i++) {
      const name = this.at(i);
      if (name === undefined) break;
      counts[name] = (counts[name] ?? 0) + 1;
    }
    return counts;
  }

  /** The most users this sequence can place (Infinity when any class is weighted). */
  get capacity(): number {
    return this.weighted.length > 0 ? Infinity : this.fixed.length;
  }

  // Smooth weighted round robin: each step adds every weight to its counter, picks the largest,
  // and subtracts the total from it. Deterministic, and every prefix is as balanced as possible.
  private nextWeighted(): string | undefined {
    if (this.weighted.length === 0 || this.totalWeight <= 0) return undefined;
    let best = 0;
    for (let i = 0; i < this.weighted.length; i++) {
      this.current[i]! += this.weighted[i]!.weight;
      if (this.current[i]! > this.current[best]!) best = i;
    }
    this.current[best]! -= this.totalWeight;
    return this.weighted[best]!.name;
  }
}

function smoothInterleave(classes: readonly { name: string; weight: number }[], length: number): string[] {
  const out: string[] = [];
  const current = classes.map(() => 0);
  const total = classes.reduce((s, c) => s + c.weight, 0);
  for (let n = 0; n < length; n++) {
    let best = 0;
    for (let i = 0; i < classes.length; i++) {
      current[i]! += classes[i]!.weight;
      if (current[i]! > current[best]!) best = i;
    }
    current[best]! -= total;
    out.push(classes[best]!.name);
  }
  return out;
}
