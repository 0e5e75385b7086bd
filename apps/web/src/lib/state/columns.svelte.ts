/** Which hyperparameter and metric columns the dashboard shows, remembered per workspace. */
export class ColumnChoice {
  hyperparams = $state<string[]>([]);
  metrics = $state<string[]>([]);
  /** The metric of the "Δ vs reference" column, or null for no such column. */
  deltaMetric = $state<string | null>(null);
  /** False until the user picks; until then the first few metrics seen are shown. */
  chosen = $state(false);

  constructor(private readonly workspaceId: string) {
    this.loadStored();
  }

  /** Back to the choice remembered in this browser (or none). */
  private loadStored(): void {
    this.hyperparams = [];
    this.metrics = [];
    this.chosen = false;
    const raw = localStorage.getItem(this.key);
    if (raw) {
      try {
        const v = JSON.parse(raw) as { hyperparams?: string[]; metrics?: string[]; deltaMetric?: string | null };
        this.hyperparams = v.hyperparams ?? [];
        this.metrics = v.metrics ?? [];
        this.deltaMetric = v.deltaMetric ?? null;
        this.chosen = true;
      } catch {
        localStorage.removeItem(this.key);
      }
    }
  }

  /**
   * Columns a link names (the dashboard's URL) win for this view without being remembered;
   * where it names none, the remembered choice applies.
   */
  apply(hyperparams: string[] | null, metrics: string[] | null): void {
    if (hyperparams === null && metrics === null) return this.loadStored();
    if (hyperparams !== null) this.hyperparams = hyperparams;
    if (metrics !== null) this.metrics = metrics;
    this.chosen = true;
  }

  private get key(): string {
    return `tora.columns.${this.workspaceId}`;
  }

  set(kind: 'hyperparams' | 'metrics', names: string[]): void {
    this[kind] = names;
    this.chosen = true;
    this.save();
  }

  setDelta(metric: string | null): void {
    this.deltaMetric = metric;
    this.save();
  }

  private save(): void {
    localStorage.setItem(
      this.key,
      JSON.stringify({ hyperparams: this.hyperparams, metrics: this.metrics, deltaMetric: this.deltaMetric }),
    );
  }
}
