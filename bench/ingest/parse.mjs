#!/usr/bin/env node
// bench/ingest/parse.mjs: the batch parser alone (parseBatch, with its fingerprint; no HTTP, no
// SQLite) on batches of bench/ingest's shape — columnar JSON numbers, base64 float64 columns, rows.
// With --baseline DIR (another checkout, its server built), both builds' parsers run in this one
// process, alternating, and the ratio is printed.
//   node bench/ingest/parse.mjs [--baseline DIR] [--smoke]
// (--smoke: few rounds, and without --baseline this tree's own build stands in as the baseline)
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SMOKE, size, smokeBanner } from '../lib/smoke.mjs';
import { ROOT, ensureBuilt } from '../lib/tora-server.mjs';

const PARSER = 'apps/server/dist/modules/metrics/ingest.js';
const at = process.argv.indexOf('--baseline');
const baselineDir = at > 0 ? path.resolve(process.argv[at + 1]) : SMOKE ? ROOT : null;
smokeBanner('bench/ingest/parse');
ensureBuilt();
const builds = [['this tree', await import(pathToFileURL(path.join(ROOT, PARSER)).href)]];
if (baselineDir) builds.push(['baseline', await import(pathToFileURL(path.join(baselineDir, PARSER)).href)]);

const METRICS = 10;
const STEPS = 2_000;
const value = (m, s) => Math.sin(s / 100 + m);
const f64 = (xs) => Buffer.from(new Float64Array(xs).buffer).toString('base64');

function body(kind) {
  if (kind === 'rows') {
    const rows = [];
    for (let s = 0; s < 1_000 / METRICS; s++) {
      for (let m = 0; m < METRICS; m++) rows.push({ name: `metric_${m}`, value: value(m, s), step: s, metadata: null });
    }
    return rows;
  }
  const steps = Array.from({ length: STEPS }, (_, i) => i);
  const series = {};
  for (let m = 0; m < METRICS; m++) {
    const values = steps.map((s) => value(m, s));
    series[`metric_${m}`] = kind === 'binary' ? { stepsF64: f64(steps), valuesF64: f64(values) } : { steps, values };
  }
  // As the route gets it: parsed JSON.
  return JSON.parse(JSON.stringify({ batchId: 'b', series }));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [kind, points, reps] of [
  ['columnar', METRICS * STEPS, 5],
  ['binary', METRICS * STEPS, 5],
  ['rows', 1_000, 50],
]) {
  const batch = body(kind);
  const times = new Map(builds.map(([name]) => [name, []]));
  for (let round = 0; round < size(40, 4); round++) {
    for (const [name, parser] of round % 2 ? builds : [...builds].reverse()) {
      const t0 = process.hrtime.bigint();
      for (let r = 0; r < reps; r++) parser.parseBatch(batch, undefined);
      // The first 10 rounds warm the JIT up.
      if (round >= size(10, 2)) times.get(name).push(Number(process.hrtime.bigint() - t0) / 1e6 / reps);
    }
  }
  const figures = builds.map(([name]) => `${name} ${median(times.get(name)).toFixed(2)} ms`);
  const ratio = baselineDir
    ? `, baseline / this tree ${(median(times.get('baseline')) / median(times.get('this tree'))).toFixed(2)}×`
    : '';
  console.log(`${kind}: parseBatch per batch of ${points.toLocaleString('en-US')} points: ${figures.join(', ')}${ratio}`);
}
