/** Which hyperparameter and metric columns the dashboard shows, remembered per workspace. */
export class ColumnChoice {
  hyperparams = $state<string[]>([]);
  metrics = $state<string[]>([]);
  /** The metric of the "Δ vs reference" column, or null for no such column. */
  deltaMetric = $state<string | null>(null);
  /** False until the user picks; until then the first few metrics seen are shown. */
  chosen = $state(false);

  constructor(private readonly workspaceId: string) {
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

  toggle(kind: 'hyperparams' | 'metrics', name: string): void {
    const cur = this[kind];
    this.set(kind, cur.includes(name) ? cur.filter((n) => n !== name) : [...cur, name]);
  }
}
