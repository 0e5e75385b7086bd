import type { MetricDirection } from '../../db/schema.js';

const LOWER_IS_BETTER = new Set([
  'loss',
  'error',
  'err',
  'perplexity',
  'ppl',
  'mse',
  'mae',
  'rmse',
  'nll',
  'wer',
  'cer',
  'regret',
  'latency',
]);
const HIGHER_IS_BETTER = new Set([
  'acc',
  'accuracy',
  'f1',
  'auc',
  'precision',
  'recall',
  'bleu',
  'rouge',
  'map',
  'iou',
  'dice',
  'reward',
  'return',
  'score',
]);

/** Words of a metric name: `val/top1_acc` → [val, top1, acc]; `trainLoss` → [train, loss]. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/**
 * Direction inferred from a metric's name, or null when the name says nothing. The last
 * telling word wins, since the quantity usually ends the name (`val/loss`, `acc_top1` aside).
 *
 * @example
 *   inferDirection('val/loss'); // 'min'
 *   inferDirection('eval_accuracy'); // 'max'
 *   inferDirection('lr'); // null
 */
export function inferDirection(name: string): MetricDirection | null {
  const ws = words(name);
  for (let i = ws.length - 1; i >= 0; i--) {
    const w = ws[i]!;
    if (LOWER_IS_BETTER.has(w)) return 'min';
    if (HIGHER_IS_BETTER.has(w)) return 'max';
  }
  return null;
}

/** The workspace's override when there is one, else the inferred direction. */
export function directionOf(name: string, overrides: ReadonlyMap<string, MetricDirection>): MetricDirection | null {
  return overrides.get(name) ?? inferDirection(name);
}
