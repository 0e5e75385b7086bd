import type { AnalysisResult } from './analysis.schemas.js';

/**
 * Analysis results per (experiment, reference, provider, question), valid while the data stamp
 * is unchanged. One per app (created in the routes factory), bounded, oldest evicted first.
 */
export class AnalysisCache {
  private readonly entries = new Map<string, { stamp: string; result: AnalysisResult }>();

  constructor(private readonly capacity = 200) {}

  get(key: string, stamp: string): AnalysisResult | undefined {
    const hit = this.entries.get(key);
    if (!hit || hit.stamp !== stamp) return undefined;
    return hit.result;
  }

  set(key: string, stamp: string, result: AnalysisResult): void {
    this.entries.delete(key);
    this.entries.set(key, { stamp, result });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}
