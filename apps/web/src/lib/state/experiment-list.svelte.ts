import { api, ApiError, type Experiment, type SortKey, type Status } from '$lib/api';
import { searchQuery } from '$lib/search-query';
import { ALL_WORKSPACES } from './session.svelte';
import { handleError } from './toasts.svelte';

// Pages of 100: each arrival (server query, transfer, parse, one more screen of rows) stays small
// enough not to cost a scroll frame on a busy machine.
const PAGE = 100;

export interface ListFilters {
  /** Name contains, or an MLflow filter expression (see search-query.ts). */
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
  /** The server's message when it refused the search box's filter expression; shown under the box. */
  filterError = $state<string | null>(null);
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
    const search = searchQuery(f.search);
    try {
      const res = await api.listExperiments(
        {
          // "All workspaces": no workspace, so the server lists every one the user can read.
          workspace: this.workspace === ALL_WORKSPACES ? undefined : this.workspace,
          ...search,
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
      this.filterError = null;
    } catch (e) {
      if (gen !== this.generation) return;
      if (search.filter !== undefined && e instanceof ApiError && e.status === 400) {
        // A filter being typed is often incomplete: say why under the box, not in a toast per keystroke.
        this.filterError = e.message;
        this.rows = [];
        this.nextCursor = null;
        this.total = null;
        this.loaded = true;
      } else handleError(e);
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
