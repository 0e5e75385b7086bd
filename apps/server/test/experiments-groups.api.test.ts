import type { Static } from '@sinclair/typebox';
import { CompiledQuery, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { groupStatsSql } from '../src/modules/experiments/experiments.groups.repository.js';
import type { ExperimentGroups } from '../src/modules/experiments/experiments.schemas.js';
import {
  DIALECTS,
  call,
  createExperiment,
  createWorkspace,
  errorCode,
  useTestServer,
  useUser,
  type TestUser,
} from './harness.js';
import { declaredBody } from './route-schemas.js';

type Groups = Static<typeof ExperimentGroups>;
type Stats = Groups['groups'][number]['metrics'][string];
/** Stats computed here from the logged values: plain numbers. */
type Expected = { [K in keyof Stats]: number };

function direct(values: number[]): Expected {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  return { mean, std, min: Math.min(...values), max: Math.max(...values), n };
}

function expectStats(got: Stats, want: Expected): void {
  expect(got.n).toBe(want.n);
  for (const f of ['mean', 'std', 'min', 'max'] as const) expect(got[f]).toBeCloseTo(want[f], 12);
}

describe.each(DIALECTS)('experiment list grouped (groupBy) on %s', (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);
  const bob = useUser(server);

  /** A sweep of 4 learning rates × 2 seeds, loss falling to a last value that depends on both. */
  async function sweep(
    user: TestUser,
  ): Promise<{ ws: string; runs: { lr: number; seed: number; losses: number[]; acc: number }[] }> {
    const ws = await createWorkspace(server.app, user);
    const runs = [];
    for (const lr of [0.1, 0.01, 0.001, 0.0001]) {
      for (const seed of [1, 2]) {
        const losses = [3, 2, 1 + lr * 10 + seed / 100, 0.5 + lr * 10 + seed / 50];
        const acc = 0.9 - lr - seed / 1000;
        const id = await createExperiment(server.app, user, { workspaceId: ws, group: 'sweep', hyperparams: { lr, seed } });
        const res = await call(server.app, user, 'POST', `/api/experiments/${id}/metrics/batch`, {
          series: { loss: { values: losses }, acc: { values: [acc] } },
        });
        expect(res.statusCode).toBe(201);
        await call(server.app, user, 'POST', '/api/2.0/mlflow/runs/set-tag', { run_id: id, key: 'seed', value: `s${seed}` });
        runs.push({ lr, seed, losses, acc });
      }
    }
    await createExperiment(server.app, user, { workspaceId: ws, group: 'other', hyperparams: { lr: 0.1 } });
    return { ws, runs };
  }

  const list = async (user: TestUser, query: string): Promise<Groups> => {
    const res = await call(server.app, user, 'GET', `/api/experiments?${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return declaredBody<Groups>(server.app, res, 'GET /api/experiments');
  };

  it('groups by a hyperparameter after the filters: count and mean ± std of last and best values per column', async () => {
    const { ws, runs } = await sweep(alice);
    const g = await list(alice, `workspace=${ws}&group=sweep&groupBy=params.lr&groupMetrics=loss,best:loss,max:acc`);
    expect(g.total).toBe(8);
    expect(g.groupCount).toBe(4);
    expect(g.groups.map((x) => [x.value, x.count])).toEqual([
      [0.0001, 2],
      [0.001, 2],
      [0.01, 2],
      [0.1, 2],
    ]);
    for (const group of g.groups) {
      const mine = runs.filter((r) => r.lr === group.value);
      expectStats(group.metrics.loss!, direct(mine.map((r) => r.losses[3]!)));
      // best loss is the min (loss is lower-is-better): the third value here.
      expectStats(group.metrics['best:loss']!, direct(mine.map((r) => Math.min(...r.losses))));
      expectStats(group.metrics['max:acc']!, direct(mine.map((r) => r.acc)));
    }
    // Sorted by a column's mean, descending; MLflow's filter grammar applies first.
    const sorted = await list(
      alice,
      `workspace=${ws}&groupBy=params.lr&groupMetrics=loss&groupSort=loss&order=desc&filter=${encodeURIComponent('params.lr < 0.05')}`,
    );
    expect(sorted.groups.map((x) => x.value)).toEqual([0.01, 0.001, 0.0001]);
    expect(sorted.total).toBe(6);
  });

  it('groups by group and by an MLflow tag, with runs lacking the key as the null group', async () => {
    const { ws } = await sweep(alice);
    const byGroup = await list(alice, `workspace=${ws}&groupBy=group&groupSort=count`);
    expect(byGroup.groups.map((x) => [x.value, x.count])).toEqual([
      ['sweep', 8],
      ['other', 1],
    ]);
    // Default columns: the metrics most runs have, by last value.
    expect(Object.keys(byGroup.groups[0]!.metrics).sort()).toEqual(['acc', 'loss']);
    expect(byGroup.groups[1]!.metrics.loss).toEqual({ mean: null, std: null, min: null, max: null, n: 0 });
    const byTag = await list(alice, `workspace=${ws}&groupBy=tags.seed&groupMetrics=acc`);
    expect(byTag.groups.map((x) => [x.value, x.count])).toEqual([
      ['s1', 4],
      ['s2', 4],
      [null, 1],
    ]);
  });

  /** One run per value in `values` (its only point), all in the workspace, grouped by `params.case`. */
  async function runsWithLast(ws: string, cases: Record<string, (number | string)[]>): Promise<void> {
    for (const [name, values] of Object.entries(cases)) {
      for (const v of values) {
        const id = await createExperiment(server.app, alice, { workspaceId: ws, hyperparams: { case: name } });
        const res = await call(server.app, alice, 'POST', `/api/experiments/${id}/metrics/batch`, {
          series: { m: { values: [v] } },
        });
        expect(res.statusCode).toBe(201);
      }
    }
  }

  it('takes the std in two passes: values of 1e9 plus tenths keep their spread', async () => {
    const ws = await createWorkspace(server.app, alice);
    const values = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8].map((x) => 1e9 + x);
    await runsWithLast(ws, { big: values });
    const [group] = (await list(alice, `workspace=${ws}&groupBy=params.case&groupMetrics=m`)).groups;
    const got = group!.metrics.m!;
    const want = direct(values);
    expect(got.n).toBe(8);
    // Σx² − (Σx)²/n would be off by ~10² here (x² ≈ 1e18 carries 16 digits); two passes agree to 1e-9.
    expect(Math.abs((got.std as number) - want.std)).toBeLessThan(1e-9);
    expect(want.std).toBeCloseTo(0.2291, 4);
    expect(Math.abs((got.mean as number) - want.mean)).toBeLessThanOrEqual(2.4e-7); // two ulps at 1e9
    expect([got.min, got.max]).toEqual([want.min, want.max]);
  });

  it('leaves NaN values out; an infinite value makes the mean infinite (NaN with both signs) and the std NaN; huge values answer', async () => {
    const ws = await createWorkspace(server.app, alice);
    await runsWithLast(ws, {
      a: [1, 'NaN', 3],
      b: [1, 'Infinity', 2],
      c: ['-Infinity', 5],
      d: ['Infinity', '-Infinity', 'NaN'],
      e: ['NaN'],
      f: [1e200, 3e200],
      g: [1e308, 1.5e308],
    });
    const g = await list(alice, `workspace=${ws}&groupBy=params.case&groupMetrics=m`);
    const byCase = Object.fromEntries(g.groups.map((x) => [x.value, x.metrics.m]));
    expect(g.groups.map((x) => [x.value, x.count])).toEqual([
      ['a', 3],
      ['b', 3],
      ['c', 2],
      ['d', 3],
      ['e', 1],
      ['f', 2],
      ['g', 2],
    ]);
    expect(byCase.a).toEqual({ mean: 2, std: 1, min: 1, max: 3, n: 2 });
    expect(byCase.b).toEqual({ mean: 'Infinity', std: 'NaN', min: 1, max: 'Infinity', n: 3 });
    expect(byCase.c).toEqual({ mean: '-Infinity', std: 'NaN', min: '-Infinity', max: 5, n: 2 });
    expect(byCase.d).toEqual({ mean: 'NaN', std: 'NaN', min: '-Infinity', max: 'Infinity', n: 2 });
    expect(byCase.e).toEqual({ mean: null, std: null, min: null, max: null, n: 0 });
    // Squares past the float range: the std overflows to Infinity (PostgreSQL would raise, not answer).
    expect(byCase.f).toEqual({ mean: 2e200, std: 'Infinity', min: 1e200, max: 3e200, n: 2 });
    // A sum past the float range: Infinity as in JavaScript and SQLite, where PostgreSQL's float8
    // arithmetic raises (those groups are then aggregated in the server; every case above with them).
    expect(byCase.g).toEqual({ mean: 'Infinity', std: 'Infinity', min: 1e308, max: 1.5e308, n: 2 });
    // Sorting by the column: infinite means in order, NaN and none last.
    const sorted = await list(alice, `workspace=${ws}&groupBy=params.case&groupMetrics=m&groupSort=m`);
    expect(sorted.groups.map((x) => x.value)).toEqual(['c', 'a', 'f', 'b', 'g', 'd', 'e']);
  });

  it('keeps apart values that only a null-safe key tells apart: 0, false, the empty string, "0" and none', async () => {
    const ws = await createWorkspace(server.app, alice);
    for (const value of [0, false, '', '', '0', 1, null]) {
      await createExperiment(server.app, alice, { workspaceId: ws, hyperparams: value === null ? {} : { case: value } });
    }
    const g = await list(alice, `workspace=${ws}&groupBy=params.case&groupMetrics=m`);
    // Booleans are stored as 1/0, so false joins 0.
    expect(g.groups.map((x) => [x.value, x.count])).toEqual([
      [0, 2],
      [1, 1],
      ['', 2],
      ['0', 1],
      [null, 1],
    ]);
  });

  it("reads each run's figures once and sorts the runs once on SQLite (the query's plan)", async () => {
    const { ws } = await sweep(alice);
    const { db, dialect: helpers } = server.database;
    const query = groupStatsSql(db, helpers, {
      filter: { workspaceIds: [ws], tags: [], statuses: [], crashedBefore: 0, hideTrashed: false },
      groupBy: { by: 'param', key: 'lr' },
      columns: [
        { name: 'loss', figure: 'last' },
        { name: 'acc', figure: 'max' },
      ],
    }).compile(db);
    const explain = dialect === 'sqlite' ? 'explain query plan' : 'explain';
    const { rows } = await db.executeQuery<Record<string, string>>(
      CompiledQuery.raw(`${explain} ${query.sql}`, [...query.parameters]),
    );
    const plan = rows.map((r) => r.detail ?? r['QUERY PLAN']!);
    // One scan of the series table (PostgreSQL's bitmap scans name its index on a line of their own).
    const readsSeries = dialect === 'sqlite' ? /metric_series/ : / on metric_series /;
    expect(
      plan.filter((line) => readsSeries.test(line)),
      plan.join('\n'),
    ).toHaveLength(1);
    if (dialect === 'sqlite') {
      // The runs in (workspace, id) order, their series read run after run: the one sort is the runs' by group.
      expect(plan.some((line) => line.includes('experiments_workspace_id_idx'))).toBe(true);
      expect(plan.filter((line) => line.includes('TEMP B-TREE'))).toEqual(['USE TEMP B-TREE FOR ORDER BY']);
    }
  });

  it("runs its query with PostgreSQL's JIT compiler off (compiling it took 1.1 s of a 70 ms query)", async () => {
    const { db, dialect: helpers } = server.database;
    const setting = await helpers.withoutJit(db, async (exec) =>
      dialect === 'postgres' ? (await sql<{ jit: string }>`show jit`.execute(exec)).rows[0]!.jit : 'none',
    );
    expect(setting).toBe(dialect === 'postgres' ? 'off' : 'none');
    // Only for that transaction: the pool's connections keep their own setting.
    if (dialect === 'postgres') expect((await sql<{ jit: string }>`show jit`.execute(db)).rows[0]!.jit).toBe('on');
  });

  it('checks access and refuses bad groupings with a 400', async () => {
    const { ws } = await sweep(alice);
    const foreign = await call(server.app, bob, 'GET', `/api/experiments?workspace=${ws}&groupBy=group`);
    expect(foreign.statusCode).toBe(404);
    // Without a workspace: only the caller's own runs.
    expect((await list(bob, 'groupBy=group')).total).toBe(0);
    for (const q of [
      'groupBy=hp.lr',
      'groupBy=group&groupSort=nope',
      `groupBy=group&groupMetrics=${encodeURIComponent(' , ')}`,
    ]) {
      const res = await call(server.app, alice, 'GET', `/api/experiments?${q}`);
      expect(res.statusCode, q).toBe(400);
      expect(errorCode(res)).toBe('VALIDATION_ERROR');
    }
  });
});
