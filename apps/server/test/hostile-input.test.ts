import { describe, expect, it } from 'vitest';
import { CASES as ACCOUNTS } from './hostile/accounts.cases.js';
import { CASES as EXPERIMENTS } from './hostile/experiments.cases.js';
import { hostileSuite } from './hostile/harness.js';
import { CASES as METRICS } from './hostile/metrics.cases.js';
import { CASES as REQUESTS } from './hostile/requests.cases.js';
import { CASES as TEXT } from './hostile/text.cases.js';

// The case tables run in hostile-input.<family>.test.ts; here the checks that names are data and
// that NUL bytes and odd numbers never answer 500, and the count of every table together.
describe('hostile input case tables', () => {
  it('keep all 193 cases, each named once per method', () => {
    const all = [...REQUESTS, ...EXPERIMENTS, ...METRICS, ...TEXT, ...ACCOUNTS];
    expect(all).toHaveLength(193);
    expect(new Set(all.map((c) => `${c.method} ${c.name}`)).size).toBe(all.length);
  });
});

hostileSuite('hostile input (data checks)', [], { dataChecks: true });
