import { api, type MediaItem } from '$lib/api';
import { imageAt, sharedKeys, trackOf, unionSteps, type KeyTrack } from '$lib/files/media-grid';

/** Runs a grid shows at most: beyond it the page would fetch more images than anyone can compare. */
export const MAX_GRID_RUNS = 20;

export interface GridRun {
  id: string;
  name: string;
  color: string;
}

/**
 * Each compared run's media index, read once per comparison and shared by the grids built from it
 * (hiding a run builds a new grid): the page starts the reads with its compare read, so the grid
 * does not wait for that one before asking.
 */
export class MediaIndexes {
  // A cache of promises, not state anything renders from: no reactivity wanted.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly reads = new Map<string, Promise<MediaItem[]>>();
  private readonly abort = new AbortController();

  constructor(readonly ids: readonly string[]) {}

  get(id: string): Promise<MediaItem[]> {
    let read = this.reads.get(id);
    if (read === undefined) {
      read = api.listMedia(id, this.abort.signal).catch(() => []);
      this.reads.set(id, read);
    }
    return read;
  }

  /** Starts the reads of the runs a grid shows first. */
  prefetch(): void {
    for (const id of this.ids.slice(0, MAX_GRID_RUNS)) void this.get(id);
  }

  close(): void {
    this.abort.abort();
  }
}

/**
 * The compare page's image grid: every run's media index read once (in parallel), then one key
 * and one shared step chosen by the user; each run shows its latest image at or before that step.
 */
export class CompareMedia {
  mediaByRun = $state<Record<string, MediaItem[]>>({});
  loaded = $state(false);
  chosenKey = $state<string | null>(null);
  /** Index into `steps`; past the end means "the last step". */
  index = $state(Number.MAX_SAFE_INTEGER);

  constructor(
    readonly runs: readonly GridRun[],
    private readonly indexes: MediaIndexes,
  ) {}

  async load(signal: AbortSignal): Promise<void> {
    const lists = await Promise.all(this.runs.map((r) => this.indexes.get(r.id)));
    if (signal.aborted) return;
    this.mediaByRun = Object.fromEntries(this.runs.map((r, i) => [r.id, lists[i]!]));
    this.loaded = true;
  }

  get keys(): string[] {
    return sharedKeys(this.runs.map((r) => this.mediaByRun[r.id] ?? []));
  }

  get key(): string | null {
    return this.chosenKey ?? this.keys[0] ?? null;
  }

  get tracks(): KeyTrack[] {
    const key = this.key;
    return this.runs.map((r) => (key === null ? { steps: [], items: [] } : trackOf(this.mediaByRun[r.id] ?? [], key)));
  }

  get steps(): number[] {
    return unionSteps(this.tracks);
  }

  get at(): number {
    return Math.max(0, Math.min(this.index, this.steps.length - 1));
  }

  get step(): number | null {
    return this.steps[this.at] ?? null;
  }

  /** Each run with the image it shows at the slider's step (null: nothing logged by then). */
  get cells(): { run: GridRun; item: MediaItem | null }[] {
    const step = this.step;
    const tracks = this.tracks;
    return this.runs.map((run, i) => ({ run, item: step === null ? null : imageAt(tracks[i]!, step) }));
  }
}
