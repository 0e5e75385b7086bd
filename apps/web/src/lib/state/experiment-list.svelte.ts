import { api, type Experiment, type SortKey, type Status } from '$lib/api';
import { handleError } from './toasts.svelte';

// Pages of 100: each arrival (server query, transfer, parse, one more screen of rows) stays small
// enough not to cost a scroll frame on a busy machine.
const PAGE = 100;

export interface ListFilters {
  search: string;
  /** Exact group name; '' = every group. */
  group: string;
  tags: string[];
  status: Status[];
  sort: SortKey;
  order: 'asc' | 'desc';
}

/**
 * The dashboard's rows: pages fetched from the server with its cursor as the table scrolls.
 * Searching, filtering and sorting are the server's job; a change starts again from page one.
 */
export class ExperimentList {
  rows = $state.raw<Experiment[]>([]);
  nextCursor = $state<string | null>(null);
  /** How many experiments match the filters over all pages (null from a server that does not say). */
  total = $state<number | null>(null);
  loading = $state(false);
  /** True once the first page for the current filters has arrived. */
  loaded = $state(false);
  filters = $state<ListFilters>({ search: '', group: '', tags: [], status: [], sort: 'created', order: 'desc' });
  private workspace: string | null = null;
  private controller: AbortController | null = null;
  private generation = 0;

  get hasFilters(): boolean {
    return (
      this.filters.search !== '' || this.filters.group !== '' || this.filters.tags.length > 0 || this.filters.status.length > 0
    );
  }

  async reset(workspace: string): Promise<void> {
    this.workspace = workspace;
    this.generation++;
    this.controller?.abort();
    this.rows = [];
    this.nextCursor = null;
    this.loaded = false;
    this.loading = false;
    await this.fetchPage(null);
  }

  async loadMore(): Promise<void> {
    if (this.loading || !this.nextCursor) return;
    await this.fetchPage(this.nextCursor);
  }

  private async fetchPage(cursor: string | null): Promise<void> {
    if (!this.workspace) return;
    const gen = this.generation;
    const controller = (this.controller = new AbortController());
    this.loading = true;
    const f = this.filters;
    try {
      const res = await api.listExperiments(
        {
          workspace: this.workspace,
          startwith: f.search.trim() || undefined,
          group: f.group.trim() || undefined,
          tags: f.tags,
          status: f.status,
          sort: f.sort,
          order: f.order,
          limit: PAGE,
          cursor,
        },
        controller.signal,
      );
      if (gen !== this.generation) return;
      this.rows = cursor ? this.rows.concat(res.experiments) : res.experiments;
      this.nextCursor = res.nextCursor;
      this.total = res.total ?? null;
      this.loaded = true;
    } catch (e) {
      if (gen === this.generation) handleError(e);
    } finally {
      if (gen === this.generation) this.loading = false;
    }
  }

  replace(updated: Experiment): void {
    this.rows = this.rows.map((r) => (r.id === updated.id ? updated : r));
  }

  remove(id: string): void {
    this.rows = this.rows.filter((r) => r.id !== id);
    if (this.total !== null) this.total = Math.max(0, this.total - 1);
  }
}
