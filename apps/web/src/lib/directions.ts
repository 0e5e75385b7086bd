import type { Direction } from './api';

// The server's rule (apps/server/src/modules/compare/directions.ts). The API reports only a
// workspace's overrides, not what it infers, so the name rule is needed where no compare read has
// said a metric's direction (dashboard Δ column, the settings list): the last telling word wins.
const MIN = new Set([
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
const MAX = new Set([
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

export function inferDirection(name: string): Direction | null {
  const ws = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  for (let i = ws.length - 1; i >= 0; i--) {
    if (MIN.has(ws[i]!)) return 'min';
    if (MAX.has(ws[i]!)) return 'max';
  }
  return null;
}

/** The workspace's override (from `/workspaces/{id}/metric-directions`) when there is one, else the name rule. */
export function directionOf(name: string, overrides: Readonly<Record<string, Direction>>): Direction | null {
  return overrides[name] ?? inferDirection(name);
}
