import { api, type Experiment, type MetricSummary } from '$lib/api';

const POLL_MS = 1500;

/**
 * An experiment and its metric summaries, kept fresh while it runs: every 1.5 s the (small)
 * summary list is re-read; charts then fetch only the steps they have not seen.
 */
export class ExperimentLive {
  experiment = $state.raw<Experiment>() as Experiment;
  metrics = $state.raw<MetricSummary[]>([]);
  private timer: ReturnType<typeof setTimeout> | null = null;
  private ticks = 0;
  private stopped = false;

  constructor(experiment: Experiment, metrics: MetricSummary[]) {
    this.experiment = experiment;
    this.metrics = metrics;
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped || this.experiment.status !== 'running') return;
    this.timer = setTimeout(() => void this.poll(), POLL_MS);
  }

  private async poll(): Promise<void> {
    try {
      const id = this.experiment.id;
      // The status only matters to stop polling; read it every few ticks.
      const [metrics, experiment] = await Promise.all([
        api.listMetrics(id),
        ++this.ticks % 4 === 0 ? api.getExperiment(id) : Promise.resolve(null),
      ]);
      if (this.stopped) return;
      if (changed(this.metrics, metrics)) this.metrics = metrics;
      if (experiment) this.experiment = experiment;
    } catch {
      // A missed poll is retried on the next tick; errors would only repeat every 1.5 s.
    }
    this.schedule();
  }
}

function changed(a: MetricSummary[], b: MetricSummary[]): boolean {
  return (
    a.length !== b.length || a.some((m, i) => m.name !== b[i]!.name || m.count !== b[i]!.count || m.lastStep !== b[i]!.lastStep)
  );
}
