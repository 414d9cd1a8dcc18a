// "Did you mean …?" suggestions for mistyped flags, config keys and subcommands (edit distance).

/**
 * Damerau–Levenshtein distance (optimal string alignment variant): insertions, deletions,
 * substitutions and swaps of two neighbouring characters each cost 1, so `uesrs` → `users` is 1.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // Three rolling rows (two back for transpositions) instead of a full matrix: O(|b|) memory.
  let twoBack: number[] = new Array<number>(b.length + 1).fill(0);
  let previous: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current: number[] = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (twoBack[j - 2] ?? 0) + 1);
      }
      current[j] = best;
    }
    [twoBack, previous, current] = [previous, current, twoBack];
  }
  return previous[b.length] ?? 0;
}

/** Lower-case, `spawn_rate` / `spawnRate` → `spawn-rate`, leading dashes dropped: the spellings users confuse. */
function normalise(word: string): string {
  return word
    .replace(/^-+/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/_/g, '-')
    .toLowerCase();
}

/**
 * The candidate closest to `input`, or `undefined` when none is close enough to be a likely typo.
 * Dashes, underscores and camelCase are ignored when comparing, and a unique prefix counts
 * (`--spawn` → `--spawn-rate`). Short words tolerate one edit, longer ones two.
 */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  const wanted = normalise(input);
  if (wanted.length === 0) return undefined;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, normalise(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (bestDistance === 0) return best;
  // One or two letters match almost anything at distance 1: no guess is better than a wrong one.
  if (wanted.length < 3) return undefined;
  const allowed = wanted.length <= 4 ? 1 : 2;
  if (best !== undefined && bestDistance <= allowed) return best;
  const prefixed = candidates.filter((c) => normalise(c).startsWith(wanted));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}
