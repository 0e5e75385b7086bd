import { CompiledQuery } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Static } from '@sinclair/typebox';
import type { Experiment as ExperimentSchema } from '../src/modules/experiments/experiments.schemas.js';
import { DIALECTS, call, createExperiment, signUp, startTestServer, useTestServer, useUser } from './harness.js';
import { declaredBody } from './route-schemas.js';

type Experiment = Static<typeof ExperimentSchema>;

describe.each(DIALECTS)('experiments API on %s', (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);

  it("reads a run's figure for the list's metric sort from the covering index, not the table (the plan)", async () => {
    const { db, dialect: helpers } = server.database;
    const query = db
      .selectFrom('experiments as e')
      .leftJoin('metric_series as s', (join) =>
        join.onRef('s.experiment_id', '=', 'e.id').on((eb) => helpers.equalsViaCoveringIndex(eb.ref('s.name'), 'loss')),
      )
      .select('s.last_value')
      .compile();
    const explain = dialect === 'sqlite' ? 'explain query plan' : 'explain';
    const { rows } = await db.executeQuery<Record<string, string>>(
      CompiledQuery.raw(`${explain} ${query.sql}`, [...query.parameters]),
    );
    const plan = rows.map((r) => r.detail ?? r['QUERY PLAN']!).join('\n');
    // SQLite took the unique (experiment_id, name) index and read each row from the table.
    if (dialect === 'sqlite') expect(plan).toContain('USING COVERING INDEX metric_series_figures_idx');
    else expect(query.sql).toContain('"s"."name" = $1');
  });
  it('creates an experiment in the default workspace and returns the original client fields', async () => {
    const res = await call(server.app, alice, 'POST', '/api/experiments', {
      name: 'resnet',
      description: 'baseline',
      hyperparams: [
        { key: 'lr', value: 0.001 },
        { key: 'opt', value: 'adam' },
        { key: 'aug', value: true },
      ],
      tags: ['cv', 'baseline'],
      workspaceId: 'API_DEFAULT',
    });
    expect(res.statusCode).toBe(201);
    const body = declaredBody<{ success: boolean; experiment: Experiment }>(server.app, res, 'POST /api/experiments');
    expect(body.success).toBe(true);
    const id = body.experiment.id;
    const got = await call(server.app, alice, 'GET', `/api/experiments/${id}`);
    expect(got.statusCode).toBe(200);
    const exp = declaredBody<Experiment>(server.app, got, 'GET /api/experiments/{id}');
    expect(exp).toMatchObject({
      id,
      name: 'resnet',
      description: 'baseline',
      hyperparams: [
        { key: 'lr', value: 0.001 },
        { key: 'opt', value: 'adam' },
        { key: 'aug', value: true },
      ],
      tags: ['cv', 'baseline'],
      workspaceId: alice.defaultWorkspaceId,
      workspace_id: alice.defaultWorkspaceId,
      status: 'running',
      availableMetrics: [],
    });
  });

  it("reads answers through the route's declared schema, which refuses one that strays from it", async () => {
    const id = await createExperiment(server.app, alice);
    const got = await call(server.app, alice, 'GET', `/api/experiments/${id}`);
    expect(declaredBody<Experiment>(server.app, got, 'GET /api/experiments/{id}').id).toBe(id);
    const strayed = { ...got, json: () => ({ ...got.json<Experiment>(), status: 'sleeping', tags: 'x' }) } as typeof got;
    expect(() => declaredBody(server.app, strayed, 'GET /api/experiments/{id}')).toThrow(
      /^GET \/api\/experiments\/\{id\} answered 200 outside its schema: data\/tags must be array, data\/status must be equal/,
    );
    expect(() => declaredBody(server.app, got, 'GET /api/experiments/{nope}')).toThrow('has no GET /api/experiments/{nope}');
  });

  it('accepts hyperparams as an object or a JSON string and returns the list form', async () => {
    for (const hyperparams of [
      { lr: 0.1, layers: 3 },
      JSON.stringify({ lr: 0.1, layers: 3 }),
      JSON.stringify([
        { key: 'lr', value: 0.1 },
        { key: 'layers', value: 3 },
      ]),
    ]) {
      const id = await createExperiment(server.app, alice, { hyperparams });
      const exp = (await call(server.app, alice, 'GET', `/api/experiments/${id}`)).json();
      expect(exp.hyperparams).toEqual([
        { key: 'lr', value: 0.1 },
        { key: 'layers', value: 3 },
      ]);
    }
  });

  it('flattens nested hyperparams on create and update, so they sort like any other', async () => {
    const ws = (await call(server.app, alice, 'POST', '/api/workspaces', { name: 'hp-nested' })).json().id as string;
    const forms = [
      { opt: { lr: 0.3, name: 'sgd' }, layers: [64, 64] },
      JSON.stringify({ opt: { lr: 0.1, name: 'adam' }, layers: [32] }),
      [
        { key: 'opt', value: { lr: 0.2 } },
        { key: 'layers', value: [16] },
      ],
    ];
    const ids: string[] = [];
    for (const hyperparams of forms) {
      const res = await call(server.app, alice, 'POST', '/api/experiments', { name: 'nested', workspaceId: ws, hyperparams });
      expect(res.statusCode).toBe(201);
      ids.push(res.json().experiment.id as string);
    }
    const first = (await call(server.app, alice, 'GET', `/api/experiments/${ids[0]}`)).json();
    expect(first.hyperparams).toEqual([
      { key: 'opt.lr', value: 0.3 },
      { key: 'opt.name', value: 'sgd' },
      { key: 'layers', value: '[64,64]' },
    ]);
    const put = await call(server.app, alice, 'PUT', `/api/experiments/${ids[2]}`, { hyperparams: { opt: { lr: 0.05 } } });
    expect(put.statusCode).toBe(200);
    expect(put.json().hyperparams).toEqual([{ key: 'opt.lr', value: 0.05 }]);
    const sorted = (await call(server.app, alice, 'GET', `/api/experiments?workspace=${ws}&sort=hp:opt.lr`)).json();
    expect(sorted.experiments.map((e: { id: string }) => e.id)).toEqual([ids[2], ids[1], ids[0]]);
    const columns = (await call(server.app, alice, 'GET', `/api/workspaces/${ws}/columns`)).json();
    expect(columns.hyperparams).toEqual(['layers', 'opt.lr', 'opt.name']);
    const tooDeep = await call(server.app, alice, 'POST', '/api/experiments', {
      name: 'deep',
      workspaceId: ws,
      hyperparams: { a: JSON.parse('{"b":'.repeat(20) + '1' + '}'.repeat(20)) as unknown },
    });
    expect(tooDeep.statusCode).toBe(400);
    expect(tooDeep.json().error.code).toBe('VALIDATION_ERROR');
  });

  it('accepts visibility from the original client but lets it open nothing', async () => {
    const res = await call(server.app, alice, 'POST', '/api/experiments', { name: 'public?', visibility: 'PUBLIC' });
    expect(res.statusCode).toBe(201);
    const id = res.json().experiment.id as string;
    expect(res.json().experiment).not.toHaveProperty('visibility');
    expect((await call(server.app, alice, 'PUT', `/api/experiments/${id}`, { visibility: 'PUBLIC' })).statusCode).toBe(200);
    const stranger = await signUp(server.app);
    expect((await call(server.app, stranger, 'GET', `/api/experiments/${id}`)).statusCode).toBe(404);
    expect((await call(server.app, alice, 'GET', `/api/experiments/${id}`)).json()).not.toHaveProperty('visibility');
  });

  it('updates with PUT and with POST, and deletes with its metrics', async () => {
    const id = await createExperiment(server.app, alice);
    const put = await call(server.app, alice, 'PUT', `/api/experiments/${id}`, {
      name: 'renamed',
      tags: ['x'],
      status: 'finished',
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ name: 'renamed', tags: ['x'], status: 'finished' });
    const post = await call(server.app, alice, 'POST', `/api/experiments/${id}`, { description: 'via post' });
    expect(post.json()).toMatchObject({ name: 'renamed', description: 'via post' });
    await call(server.app, alice, 'POST', `/api/experiments/${id}/metrics/batch`, [
      { name: 'loss', value: 1, step: null, metadata: null },
    ]);
    const del = await call(server.app, alice, 'DELETE', `/api/experiments/${id}`);
    expect(del.statusCode).toBe(200);
    expect((await call(server.app, alice, 'GET', `/api/experiments/${id}`)).statusCode).toBe(404);
    const series = await server.database.db.selectFrom('metric_series').select('id').where('experiment_id', '=', id).execute();
    expect(series).toEqual([]);
  });

  it('lists with name search, tags, status, sort and cursor pages', async () => {
    const ws = (await call(server.app, alice, 'POST', '/api/workspaces', { name: 'listing' })).json().id as string;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push(
        await createExperiment(server.app, alice, { name: `Run-${i}`, workspaceId: ws, tags: i % 2 ? ['odd'] : ['even'] }),
      );
      await call(server.app, alice, 'POST', `/api/experiments/${ids[i]}/metrics/batch`, {
        series: { acc: { values: [i / 10] } },
      });
    }
    await call(server.app, alice, 'PUT', `/api/experiments/${ids[0]}`, { status: 'failed' });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/api/experiments?workspace=${ws}&limit=3&sort=name&order=asc${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await call(server.app, alice, 'GET', q)).json();
      seen.push(...page.experiments.map((e: { name: string }) => e.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['Run-0', 'Run-1', 'Run-2', 'Run-3', 'Run-4', 'Run-5', 'Run-6']);

    const desc = (await call(server.app, alice, 'GET', `/api/experiments?workspace=${ws}&sort=-name&limit=2`)).json();
    expect(desc.experiments.map((e: { name: string }) => e.name)).toEqual(['Run-6', 'Run-5']);

    const search = (await call(server.app, alice, 'GET', `/api/experiments?workspace=${ws}&startwith=run-3`)).json();
    expect(search.experiments.map((e: { id: string }) => e.id)).toEqual([ids[3]]);
    const odd = (await call(server.app, alice, 'GET', `/api/experiments?workspace=${ws}&tags=odd&sort=name&order=asc`)).json();
    expect(odd.experiments.map((e: { name: string }) => e.name)).toEqual(['Run-1', 'Run-3', 'Run-5']);
    const failed = (await call(server.app, alice, 'GET', `/api/experiments?workspace=${ws}&status=failed`)).json();
    expect(failed.experiments.map((e: { id: string }) => e.id)).toEqual([ids[0]]);
    const byAcc = (
      await call(server.app, alice, 'GET', `/api/experiments?workspace=${ws}&sort=metric:acc&order=desc&limit=2`)
    ).json();
    expect(byAcc.experiments.map((e: { name: string }) => e.name)).toEqual(['Run-6', 'Run-5']);
    expect(byAcc.experiments[0].latestMetrics).toEqual({ acc: 0.6 });
  });

  it('sorts by a hyperparameter (numbers, then strings, then missing) and by status, and counts matches', async () => {
    const ws = (await call(server.app, alice, 'POST', '/api/workspaces', { name: 'hp-sort' })).json().id as string;
    const make = (name: string, hyperparams: Record<string, unknown>) =>
      createExperiment(server.app, alice, { name, workspaceId: ws, hyperparams });
    await make('lr-small', { lr: 0.001, opt: 'adam' });
    await make('lr-big', { lr: 0.1 });
    await make('lr-text', { lr: 'auto' });
    await make('no-lr', { batch: 32 });
    const mid = await make('lr-mid', { lr: 0.01 });
    await call(server.app, alice, 'PUT', `/api/experiments/${mid}`, { hyperparams: { lr: 0.05 }, status: 'finished' });

    const names = async (q: string) => {
      const body = (await call(server.app, alice, 'GET', `/api/experiments?workspace=${ws}&${q}`)).json();
      return { names: body.experiments.map((e: { name: string }) => e.name), total: body.total };
    };
    expect(await names('sort=hp:lr')).toEqual({ names: ['lr-small', 'lr-mid', 'lr-big', 'lr-text', 'no-lr'], total: 5 });
    expect((await names('sort=hp:lr&order=desc')).names.slice(0, 3)).toEqual(['lr-big', 'lr-mid', 'lr-small']);
    expect((await names('sort=status&limit=1')).names).toEqual(['lr-mid']); // finished < running
    expect(await names('sort=status&limit=2&startwith=lr-')).toMatchObject({ total: 4 });

    const columns = (await call(server.app, alice, 'GET', `/api/workspaces/${ws}/columns`)).json();
    expect(columns).toEqual({ hyperparams: ['batch', 'lr', 'opt'], metrics: [] });
    await call(server.app, alice, 'POST', `/api/experiments/${mid}/metrics/batch`, { series: { val_acc: { values: [0.5] } } });
    expect((await call(server.app, alice, 'GET', `/api/workspaces/${ws}/columns`)).json().metrics).toEqual(['val_acc']);
  });

  it('stores a group and run info apart from the hyperparameters, updates them and filters the list by group', async () => {
    const ws = (await call(server.app, alice, 'POST', '/api/workspaces', { name: 'groups' })).json().id as string;
    const runInfo = { 'git.commit': '0123abc', 'git.dirty': 'false', command: 'python train.py --lr 0.1', host: 'node-1' };
    const a = await createExperiment(server.app, alice, {
      name: 'a',
      workspaceId: ws,
      group: 'sweep-1',
      runInfo,
      hyperparams: { lr: 0.1 },
    });
    const b = await createExperiment(server.app, alice, { name: 'b', workspaceId: ws, group: ' sweep-1 ' });
    const c = await createExperiment(server.app, alice, { name: 'c', workspaceId: ws });
    const got = (await call(server.app, alice, 'GET', `/api/experiments/${a}`)).json();
    expect(got).toMatchObject({ group: 'sweep-1', runInfo, hyperparams: [{ key: 'lr', value: 0.1 }] });
    expect((await call(server.app, alice, 'GET', `/api/experiments/${c}`)).json()).toMatchObject({ group: null, runInfo: {} });

    const names = async (q: string) =>
      (await call(server.app, alice, 'GET', `/api/experiments?workspace=${ws}&sort=name&order=asc${q}`))
        .json()
        .experiments.map((e: { name: string }) => e.name);
    expect(await names('&group=sweep-1')).toEqual(['a', 'b']);
    expect(await names('&group=other')).toEqual([]);
    expect(await names('')).toEqual(['a', 'b', 'c']);

    const put = await call(server.app, alice, 'PUT', `/api/experiments/${b}`, { group: null, runInfo: { host: 'node-2' } });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ group: null, runInfo: { host: 'node-2' } });
    await call(server.app, alice, 'PUT', `/api/experiments/${c}`, { group: 'sweep-1' });
    expect(await names('&group=sweep-1')).toEqual(['a', 'c']);
    // An update that names neither keeps both.
    await call(server.app, alice, 'PUT', `/api/experiments/${a}`, { status: 'finished' });
    expect((await call(server.app, alice, 'GET', `/api/experiments/${a}`)).json()).toMatchObject({ group: 'sweep-1', runInfo });
  });

  it('refuses a bad group or run info with a 400 and writes nothing', async () => {
    const id = await createExperiment(server.app, alice, { group: 'g', runInfo: { host: 'h' } });
    const bad: [string, Record<string, unknown>][] = [
      ['body.group', { group: '' }],
      ['body.group', { group: 'x'.repeat(201) }],
      ['body.group', { group: 3 }],
      ['body.runInfo', { runInfo: { n: 1 } }],
      ['body.runInfo', { runInfo: ['a'] }],
      ['body.runInfo', { runInfo: { ['k'.repeat(129)]: 'v' } }],
      ['body.runInfo', { runInfo: { '': 'v' } }],
      ['body.runInfo', { runInfo: { k: 'v'.repeat(4097) } }],
      ['body.runInfo', { runInfo: Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`k${i}`, 'v'])) }],
    ];
    for (const [path, body] of bad) {
      const created = await call(server.app, alice, 'POST', '/api/experiments', { name: 'bad', ...body });
      expect(created.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(created.json().error.code).toBe('VALIDATION_ERROR');
      expect(JSON.stringify(created.json().error.details)).toContain(path);
      const updated = await call(server.app, alice, 'PUT', `/api/experiments/${id}`, { name: 'renamed', ...body });
      expect(updated.statusCode).toBe(400);
    }
    expect((await call(server.app, alice, 'GET', `/api/experiments/${id}`)).json()).toMatchObject({
      name: 'exp',
      group: 'g',
      runInfo: { host: 'h' },
    });
    const list = await call(server.app, alice, 'GET', `/api/experiments?group=${'x'.repeat(201)}`);
    expect(list.statusCode).toBe(400);
  });

  it("reports each metric's smallest and largest value and sorts by them (a column can show the best)", async () => {
    const ws = (await call(server.app, alice, 'POST', '/api/workspaces', { name: 'best-sort' })).json().id as string;
    // Last values and extremes disagree on the order: last a < b < c, min c < a < b, max b < c < a.
    const runs = { a: [0.9, 0.3], b: [0.4, 0.5, 0.6], c: [0.2, 0.8, 0.7], nan: ['NaN'] };
    const ids: Record<string, string> = {};
    for (const [name, values] of Object.entries(runs)) {
      ids[name] = await createExperiment(server.app, alice, { name, workspaceId: ws });
      const res = await call(server.app, alice, 'POST', `/api/experiments/${ids[name]}/metrics/batch`, {
        series: { loss: { values } },
      });
      expect(res.statusCode).toBe(201);
    }
    const list = async (q: string) => (await call(server.app, alice, 'GET', `/api/experiments?workspace=${ws}&${q}`)).json();
    const order = async (q: string) => (await list(q)).experiments.map((e: { name: string }) => e.name);
    expect(await order('sort=metric:loss&order=asc')).toEqual(['a', 'b', 'c', 'nan']);
    expect(await order('sort=metric-min:loss&order=asc')).toEqual(['c', 'a', 'b', 'nan']);
    expect(await order('sort=metric-max:loss&order=desc')).toEqual(['a', 'c', 'b', 'nan']);
    expect(await order('sort=-metric-min:loss')).toEqual(['b', 'a', 'c', 'nan']);
    const got = (await call(server.app, alice, 'GET', `/api/experiments/${ids.c}`)).json();
    expect(got).toMatchObject({ latestMetrics: { loss: 0.7 }, minMetrics: { loss: 0.2 }, maxMetrics: { loss: 0.8 } });
    const nan = (await list('sort=name')).experiments.find((e: { name: string }) => e.name === 'nan');
    expect(nan).toMatchObject({ latestMetrics: { loss: 'NaN' }, minMetrics: { loss: null }, maxMetrics: { loss: null } });
    const bad = await call(server.app, alice, 'GET', `/api/experiments?workspace=${ws}&sort=metric-best:loss`);
    expect(bad.statusCode).toBe(400);
  });

  it('reports a silent running experiment as crashed', async () => {
    let now = Date.now();
    const local = await startTestServer(dialect, { TORA_CRASH_AFTER_SECONDS: '60' }, { clock: () => now });
    try {
      const bob = await signUp(local.app);
      const id = await createExperiment(local.app, bob);
      now += 61_000;
      expect((await call(local.app, bob, 'GET', `/api/experiments/${id}`)).json().status).toBe('crashed');
      const crashed = (await call(local.app, bob, 'GET', '/api/experiments?status=crashed')).json();
      expect(crashed.experiments.map((e: { id: string }) => e.id)).toEqual([id]);
      await call(local.app, bob, 'POST', `/api/experiments/${id}/metrics/batch`, [{ name: 'loss', value: 1 }]);
      expect((await call(local.app, bob, 'GET', `/api/experiments/${id}`)).json().status).toBe('running');
    } finally {
      await local.close();
    }
  });
});
