/** Folds runs of whitespace to one space and trims: layout is not what CER measures. */
const fold = (text: string) => text.replace(/\s+/g, ' ').trim();

/** Levenshtein distance between two strings, in characters. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Character error rate of `recognised` against the ground truth, whitespace folded: 0 is perfect. */
export function characterErrorRate(recognised: string, truth: string): number {
  const expected = fold(truth);
  return expected.length === 0 ? (fold(recognised).length === 0 ? 0 : 1) : editDistance(fold(recognised), expected) / expected.length;
}
