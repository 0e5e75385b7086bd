import type { Direction } from './api';

// The server's rule (apps/server/src/modules/compare/directions.ts), for colouring Δ where no
// compare read has said a metric's direction: the last telling word of the name wins.
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
