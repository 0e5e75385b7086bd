import type { RunOutcome } from './analyzer.types.js';

/**
 * Keys that only pick a random stream (`seed`, `random_state`, `data_seed`, `args.seed`): their
 * "best value" is luck, so the analysis never advises on them.
 */
export function isSeedKey(key: string): boolean {
  const leaf = key.split(/[./]/).pop()!.toLowerCase();
  return leaf === 'seed' || leaf === 'random_state' || leaf.endsWith('_seed') || leaf === 'rng_seed';
}

/** Share of hyperparameter keys two runs have in common (Jaccard: shared / all). */
function keyOverlap(a: readonly string[], b: readonly string[]): number {
  const bs = new Set(b);
  const shared = a.filter((k) => bs.has(k)).length;
  const all = new Set([...a, ...b]).size;
  return all === 0 ? 0 : shared / all;
}

/** Which runs a run's hyperparameters are judged against, and why those. */
export interface Peers {
  /** "group": the run's own group; "hyperparameters": runs sharing most of its keys; "none": nothing comparable. */
  basis: 'group' | 'hyperparameters' | 'none';
  group: string | null;
  runs: RunOutcome[];
}

/** Fewer comparable runs than this and a group is not enough on its own (too few to estimate anything). */
const MIN_GROUP = 3;
/** Runs sharing at least this share of the keys count as the same kind of run. */
const MIN_OVERLAP = 0.5;

/**
 * The runs comparable with `self` (itself included): the runs of its group when it has one with
 * enough runs, else the runs (all with the metric already) whose hyperparameter keys overlap
 * most with its own. Unrelated runs of the workspace (another model, another dataset) would
 * otherwise decide which learning rate to try.
 *
 * @example
 *   comparableRuns(self, workspaceRuns); // { basis: 'group', group: 'lr-sweep', runs: [...] }
 */
export function comparableRuns(self: RunOutcome, runs: readonly RunOutcome[]): Peers {
  const others = runs.filter((r) => r.id !== self.id);
  const group = self.group ?? null;
  if (group !== null) {
    const mates = others.filter((r) => r.group === group);
    if (mates.length + 1 >= MIN_GROUP) return { basis: 'group', group, runs: [self, ...mates] };
  }
  const keys = Object.keys(self.hyperparams);
  if (keys.length === 0) return { basis: 'none', group: null, runs: [self] };
  const alike = others.filter((r) => keyOverlap(keys, Object.keys(r.hyperparams)) >= MIN_OVERLAP);
  return alike.length === 0
    ? { basis: 'none', group: null, runs: [self] }
    : { basis: 'hyperparameters', group: null, runs: [self, ...alike] };
}

/** "the 8 runs of group "lr-sweep" (a, b, c, …)": which runs the advice rests on, in words. */
export function describePeers(p: Peers): string {
  const names = p.runs.slice(0, 5).map((r) => r.name ?? r.id);
  const list = `${names.join(', ')}${p.runs.length > names.length ? `, … ${p.runs.length - names.length} more` : ''}`;
  switch (p.basis) {
    case 'group':
      return `the ${p.runs.length} runs of group "${p.group}" (${list})`;
    case 'hyperparameters':
      return `the ${p.runs.length} runs sharing most of its hyperparameter keys (${list})`;
    case 'none':
      return 'no other run: none shares its group or most of its hyperparameter keys';
  }
}
