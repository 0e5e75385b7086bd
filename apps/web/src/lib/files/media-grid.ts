import type { MediaItem } from '$lib/api';

/**
 * The compare page's image grid: one image key across runs at one shared step. Each run shows its
 * image at the latest step it logged at or before the slider's (runs log images at different
 * steps); a run with none by then shows a gap.
 */

/** Index of the largest of the sorted `steps` that is ≤ `step`, or -1 when all are later. */
export function stepAtOrBefore(steps: readonly number[], step: number): number {
  let lo = 0;
  let hi = steps.length; // first index whose step is > step
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid]! <= step) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** One run's images of a key, by ascending step (the first image at a step when there are several). */
export interface KeyTrack {
  steps: number[];
  items: MediaItem[];
}

export function trackOf(media: readonly MediaItem[], name: string): KeyTrack {
  const byStep = new Map<number, MediaItem>();
  for (const m of media) if (m.name === name && !byStep.has(m.step)) byStep.set(m.step, m);
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  return { steps, items: steps.map((s) => byStep.get(s)!) };
}

/** The image a run shows when the slider is at `step`: its latest at or before it, else null. */
export function imageAt(track: KeyTrack, step: number): MediaItem | null {
  const i = stepAtOrBefore(track.steps, step);
  return i < 0 ? null : track.items[i]!;
}

/** Every step any of the runs logged the key at, ascending: the slider's stops. */
export function unionSteps(tracks: readonly KeyTrack[]): number[] {
  const all = new Set<number>();
  for (const t of tracks) for (const s of t.steps) all.add(s);
  return [...all].sort((a, b) => a - b);
}

/** Image keys logged by any of the runs, most runs first, then by name. */
export function sharedKeys(mediaByRun: readonly (readonly MediaItem[])[]): string[] {
  const runs = new Map<string, number>();
  for (const media of mediaByRun) for (const name of new Set(media.map((m) => m.name))) runs.set(name, (runs.get(name) ?? 0) + 1);
  return [...runs.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([name]) => name);
}
