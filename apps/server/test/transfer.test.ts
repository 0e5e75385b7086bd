import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DialectName } from '../src/db/dialect.js';
import {
  DIALECTS,
  call,
  createExperiment,
  freshStorage,
  signUp,
  startTestServer,
  storageEnv,
  tempDir,
  tora,
  type TestServer,
  type TestStorage,
  type TestUser,
  keyFor,
} from './harness.js';

/** `tora …` in-process against a storage. */
function toraOn(storage: TestStorage, ...args: string[]) {
  return tora(storageEnv(storage), ...args);
}

const other = (d: DialectName): DialectName => (d === 'sqlite' ? 'postgres' : 'sqlite');

type Json = Record<string, unknown>;

/** Everything the API says about a workspace's experiments, minus what differs by design (workspace). */
async function snapshot(server: TestServer, user: TestUser) {
  const list = (await call(server.app, user, 'GET', '/api/experiments?limit=100&sort=name')).json<{ experiments: Json[] }>();
  const out = [];
  for (const e of list.experiments) {
    const id = e.id as string;
    const exp = (await call(server.app, user, 'GET', `/api/experiments/${id}`)).json<Json>();
    const metrics = (await call(server.app, user, 'GET', `/api/experiments/${id}/metrics`)).json<{ metrics: Json[] }>().metrics;
    const points: Record<string, unknown[]> = {};
    for (const m of metrics) {
      const name = m.name as string;
      points[name] = [];
      let cursor = '';
      do {
        const page = (
          await call(
            server.app,
            user,
            'GET',
            `/api/experiments/${id}/metrics/raw?name=${encodeURIComponent(name)}&limit=20000${cursor ? `&cursor=${cursor}` : ''}`,
          )
        ).json<{ points: unknown[]; nextCursor: string | null }>();
        points[name].push(...page.points);
        cursor = page.nextCursor ?? '';
      } while (cursor);
    }
    const experiment = { ...exp };
    delete experiment.workspaceId;
    delete experiment.workspace_id;
    out.push({ experiment, metrics, points });
  }
  return out;
}

describe.each(DIALECTS)('tora export on %s, tora import into the other dialect', (dialect) => {
  let source: TestServer;
  let alice: TestUser;
  const tmp = tempDir('transfer-');
  const file = path.join(tmp, 'export.jsonl');

  beforeAll(async () => {
    source = await startTestServer(dialect);
    alice = await signUp(source.app, 'alice@example.com');
    const base = await createExperiment(source.app, alice, {
      name: 'baseline',
      hyperparams: { lr: 0.1, opt: 'sgd', amp: true },
      tags: ['cifar'],
      group: 'sweep-1',
      runInfo: { 'git.commit': '0123abc', host: 'gpu-node-1' },
    });
    const run2 = await createExperiment(source.app, alice, { name: 'run-2', description: 'more', referenceId: base });
    await call(source.app, alice, 'PUT', `/api/experiments/${base}`, { status: 'finished' });
    const steps = Array.from({ length: 60_000 }, (_, i) => i);
    await call(source.app, alice, 'POST', `/api/experiments/${base}/metrics/batch`, {
      series: {
        loss: { steps, values: steps.map((s) => (s === 777 ? 'NaN' : 1 / (s + 1))) },
        acc: { steps: [0, 5, 9], values: [0.1, 'Infinity', '-Infinity'] },
      },
    });
    await call(source.app, alice, 'POST', `/api/experiments/${run2}/metrics/batch`, [
      { name: 'loss', value: 0.5, step: 3, metadata: { split: 'val' } },
      { name: 'loss', value: 0.25, metadata: null },
    ]);
  });

  afterAll(async () => {
    await source.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('moves every experiment and every point, bit for bit, and a second import adds nothing', async () => {
    const storage = { dataDir: source.dataDir, databaseUrl: source.databaseUrl };
    const exported = await toraOn(storage, 'export', '--out', file);
    expect(exported.stderr).toContain('exported 2/2 experiments');
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'tora-export', version: 3 });
    expect(JSON.parse(lines.at(-1)!)).toEqual({ type: 'end', experiments: 2, points: 60_005, files: 0 });

    const target = await freshStorage(other(dialect));
    await toraOn(target, 'user', 'create', '--email', 'alice@example.com', '--password', 'correct horse battery');
    const first = await toraOn(target, 'import', file, '--email', 'alice@example.com');
    expect(first.stdout).toContain('imported 2 experiments (0 already there) and 60,005 points (0 already there)');
    const again = await toraOn(target, 'import', file, '--email', 'alice@example.com');
    expect(again.stdout).toContain('imported 0 experiments (2 already there) and 0 points (60,005 already there)');

    const server = await startTestServer(other(dialect), {
      TORA_DATA_DIR: target.dataDir,
      TORA_DATABASE_URL: target.databaseUrl ?? '',
    });
    try {
      const there = { ...alice, key: await keyFor(server, 'alice@example.com') };
      const before = await snapshot(source, alice);
      const after = await snapshot(server, there);
      expect(after).toEqual(before);
      expect(before.map((e) => e.experiment.name)).toEqual(['baseline', 'run-2']);
      expect(after[1]!.experiment.referenceId).toBe(after[0]!.experiment.id);
      expect(after[0]!.experiment).toMatchObject({ group: 'sweep-1', runInfo: { 'git.commit': '0123abc', host: 'gpu-node-1' } });
    } finally {
      await server.close();
    }
  });

  it('refuses a truncated file, keeps what it imported, and finishes from a complete one', async () => {
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    const cut = path.join(tmp, 'cut.jsonl');
    fs.writeFileSync(cut, `${lines.slice(0, 3).join('\n')}\n`);
    const target = await freshStorage(other(dialect));
    await toraOn(target, 'user', 'create', '--email', 'bob@example.com', '--password', 'correct horse battery');
    await expect(toraOn(target, 'import', cut, '--email', 'bob@example.com')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('without its end record (truncated?)') as unknown,
    });
    const finished = await toraOn(target, 'import', file, '--email', 'bob@example.com');
    expect(finished.stdout).toMatch(/imported 1 experiments \(1 already there\) and [\d,]+ points \([\d,]+ already there\)/);
    const [, imported, already] = /and ([\d,]+) points \(([\d,]+) already/.exec(finished.stdout)!;
    expect(Number(imported!.replace(/,/g, '')) + Number(already!.replace(/,/g, ''))).toBe(60_005);
  });

  it('refuses a file with NUL, lone surrogates or out-of-range times before importing anything', async () => {
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    const records = lines.map((l) => JSON.parse(l) as Json);
    const last = records.findIndex((r) => r.type === 'experiment' && r.name === 'run-2');
    const points = Math.max(...records.map((r, i) => (r.type === 'points' ? i : -1)));
    expect(last).toBeGreaterThan(2); // baseline and its points come first: a midway stop would leave them
    const f64 = (xs: number[]) => Buffer.from(new Float64Array(xs).buffer).toString('base64');
    const variants: [string, number, Json, string][] = [
      ['nul', last, { ...records[last], name: 'run\u00002' }, 'experiment.name contains a NUL character'],
      [
        'surrogate-tag',
        last,
        { ...records[last], tags: ['ok', 'x\ud800'] },
        'experiment.tags.1 contains a lone UTF-16 surrogate',
      ],
      [
        'mlflow-tag',
        last,
        { ...records[last], mlflow: { tags: [{ key: 'k' }], endTime: null, deletedAt: null } },
        'mlflow.tags[0] must be {key, value} strings',
      ],
      [
        'mlflow-time',
        last,
        { ...records[last], mlflow: { tags: [], endTime: 'soon', deletedAt: null } },
        'mlflow.endTime must be an integer (epoch ms) or null',
      ],
      ['surrogate-metric', points, { ...records[points], name: 'loss\udc00' }, 'points.name contains a lone UTF-16 surrogate'],
      [
        'time',
        points,
        { ...records[points], timesF64: f64([0, 9e15]), stepsF64: f64([0, 1]), valuesF64: f64([1, 2]) },
        'a point time is beyond 8640000000000000 ms',
      ],
    ];
    const target = await freshStorage(other(dialect));
    await toraOn(target, 'user', 'create', '--email', 'carol@example.com', '--password', 'correct horse battery');
    for (const [name, index, record, message] of variants) {
      const bad = path.join(tmp, `bad-${name}.jsonl`);
      const out = [...lines];
      out[index] = JSON.stringify(record);
      fs.writeFileSync(bad, `${out.join('\n')}\n`);
      await expect(toraOn(target, 'import', bad, '--email', 'carol@example.com'), name).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining(`line ${index + 1}: ${message}`) as unknown,
      });
    }
    const server = await startTestServer(other(dialect), {
      TORA_DATA_DIR: target.dataDir,
      TORA_DATABASE_URL: target.databaseUrl ?? '',
    });
    try {
      const carol = { key: await keyFor(server, 'carol@example.com') };
      const listed = (await call(server.app, carol, 'GET', '/api/experiments')).json<{ total: number }>();
      expect(listed.total).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('keeps a reference only to an experiment the importing user can read', async () => {
    const storage = { dataDir: source.dataDir, databaseUrl: source.databaseUrl };
    const all = (await call(source.app, alice, 'GET', '/api/experiments?limit=100&sort=name')).json<{ experiments: Json[] }>();
    const run2 = all.experiments.find((e) => e.name === 'run-2')!;
    const only = path.join(tmp, 'run-2.jsonl');
    await toraOn(storage, 'export', '--experiment', run2.id as string, '--out', only);
    const target = await freshStorage(other(dialect));
    for (const email of ['xavier@example.com', 'yvonne@example.com']) {
      await toraOn(target, 'user', 'create', '--email', email, '--password', 'correct horse battery');
    }
    await toraOn(target, 'import', file, '--email', 'xavier@example.com'); // baseline now lives in Xavier's workspace
    await toraOn(target, 'import', only, '--email', 'yvonne@example.com');
    const server = await startTestServer(other(dialect), {
      TORA_DATA_DIR: target.dataDir,
      TORA_DATABASE_URL: target.databaseUrl ?? '',
    });
    try {
      const yvonne = { key: await keyFor(server, 'yvonne@example.com') };
      const mine = (await call(server.app, yvonne, 'GET', '/api/experiments?limit=100')).json<{ experiments: Json[] }>()
        .experiments;
      expect(mine.map((e) => [e.name, e.referenceId])).toEqual([['run-2', null]]);
      expect(mine[0]!.id).not.toBe(run2.id); // that id was taken in Xavier's workspace
    } finally {
      await server.close();
    }
  });

  it('explains bad files and bad arguments', async () => {
    const storage = { dataDir: source.dataDir, databaseUrl: source.databaseUrl };
    const junk = path.join(tmp, 'junk.jsonl');
    fs.writeFileSync(junk, '{"hello": "world"}\n');
    await expect(toraOn(storage, 'import', junk, '--email', 'alice@example.com')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('is not a Tora export') as unknown,
    });
    await expect(toraOn(storage, 'import')).rejects.toMatchObject({ code: 2 });
    await expect(toraOn(storage, 'import', file)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('this export has no accounts: pass --email') as unknown,
    });
    await expect(toraOn(storage, 'import', file, '--email', 'nobody@example.com')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('No user with email') as unknown,
    });
    await expect(toraOn(storage, 'export', '--experiment', '00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('No experiment with id') as unknown,
    });
    expect(fs.existsSync(path.join(tmp, 'never.jsonl.partial'))).toBe(false);
  });

  it('takes --workspace as a name as well as an id, and explains unknown and repeated names', async () => {
    const storage = { dataDir: source.dataDir, databaseUrl: source.databaseUrl };
    const workspace = async (name: string) =>
      (await call(source.app, alice, 'POST', '/api/workspaces', { name })).json<{ id: string }>().id;
    const vision = await workspace('Vision');
    const inbox = await workspace('Inbox');
    await createExperiment(source.app, alice, { name: 'vision-run', workspaceId: vision });
    const visionFile = path.join(tmp, 'vision.jsonl');
    const exported = await toraOn(storage, 'export', '--workspace', 'Vision', '--out', visionFile);
    expect(exported.stderr).toContain('exported 1/1 experiments');
    const byId = await toraOn(storage, 'export', '--workspace', vision);
    expect(byId.stdout).toContain('"vision-run"');

    await toraOn(storage, 'import', visionFile, '--email', 'alice@example.com', '--workspace', 'Inbox');
    const inInbox = (await call(source.app, alice, 'GET', `/api/experiments?workspace=${inbox}`)).json<{
      experiments: { name: string }[];
    }>();
    expect(inInbox.experiments.map((e) => e.name)).toEqual(['vision-run']);

    await expect(toraOn(storage, 'export', '--workspace', 'Nope')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('No workspace with id or name "Nope"') as unknown,
    });
    const twins = [await workspace('Twin'), await workspace('Twin')];
    await expect(toraOn(storage, 'export', '--workspace', 'Twin')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(new RegExp(`2 workspaces are named "Twin" \\(ids (${twins[0]}|${twins[1]}), `)) as unknown,
    });
    // An import only looks among the importing user's workspaces.
    const bob = await signUp(source.app, 'bob-transfer@example.com');
    await expect(toraOn(storage, 'import', visionFile, '--email', bob.email, '--workspace', 'Inbox')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('No workspace with id or name "Inbox"') as unknown,
    });
  });
});

describe.each(DIALECTS)('tora export --accounts on %s, tora import into an empty server of the other dialect', (dialect) => {
  let source: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  const tmp = tempDir('transfer-accounts-');
  const file = path.join(tmp, 'server.jsonl');

  beforeAll(async () => {
    source = await startTestServer(dialect);
    alice = await signUp(source.app, 'alice@example.com');
    bob = await signUp(source.app, 'bob@example.com');
    const lab = (await call(source.app, bob, 'POST', '/api/workspaces', { name: 'Lab' })).json<{ id: string }>().id;
    await call(source.app, bob, 'POST', `/api/workspaces/${lab}/members`, { email: 'alice@example.com', role: 'viewer' });
    await call(source.app, bob, 'PUT', `/api/workspaces/${lab}/metric-directions`, { directions: { score: 'min' } });
    const inLab = await createExperiment(source.app, bob, { name: 'lab-run', workspaceId: lab });
    await call(source.app, bob, 'POST', `/api/experiments/${inLab}/metrics/batch`, { series: { score: { values: [3, 2, 1] } } });
    const mine = await createExperiment(source.app, alice, { name: 'alice-run', hyperparams: { lr: 0.1 } });
    await call(source.app, alice, 'POST', `/api/experiments/${mine}/metrics/batch`, {
      series: { loss: { values: [1, 'NaN', 0.5] } },
    });
  });

  afterAll(async () => {
    await source.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('moves users, passwords, keys, workspaces, members and directions with the experiments', async () => {
    const exported = await toraOn(source, 'export', '--accounts', '--out', file);
    expect(exported.stderr).toContain('exported 2 users');
    const target = await freshStorage(other(dialect));
    const first = await toraOn(target, 'import', file);
    expect(first.stdout).toContain('imported 2 experiments (0 already there) and 6 points (0 already there)');
    const again = await toraOn(target, 'import', file);
    expect(again.stdout).toContain('imported 0 experiments (2 already there) and 0 points (6 already there)');

    const server = await startTestServer(other(dialect), {
      TORA_DATA_DIR: target.dataDir,
      TORA_DATABASE_URL: target.databaseUrl ?? '',
    });
    try {
      // The same API keys and passwords work; each user sees exactly what they saw before.
      for (const user of [alice, bob]) expect(await snapshot(server, user)).toEqual(await snapshot(source, user));
      const login = await server.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email: 'bob@example.com', password: 'correct horse battery' },
      });
      expect(login.statusCode).toBe(200);
      const workspaces = async (s: TestServer, u: TestUser) =>
        (await call(s.app, u, 'GET', '/api/workspaces')).json<{ workspaces: Json[] }>().workspaces;
      expect(await workspaces(server, alice)).toEqual(await workspaces(source, alice));
      const lab = (await workspaces(server, bob)).find((w) => w.name === 'Lab')!;
      const directions = async (s: TestServer) =>
        (await call(s.app, bob, 'GET', `/api/workspaces/${lab.id as string}/metric-directions`)).json<Json>();
      expect(await directions(server)).toEqual(await directions(source));
      // lastUsed moves whenever a key is used, which this very comparison does on both servers.
      const keys = async (s: TestServer) =>
        (await call(s.app, bob, 'GET', '/api/keys'))
          .json<{ keys: Json[] }>()
          .keys.map(({ lastUsed, ...k }) => ({ ...k, used: lastUsed !== null }));
      expect(await keys(server)).toEqual(await keys(source));
    } finally {
      await server.close();
    }
  });

  it('refuses to merge accounts into a server that has other users', async () => {
    const target = await freshStorage(other(dialect));
    await toraOn(target, 'user', 'create', '--email', 'carol@example.com', '--password', 'correct horse battery');
    await expect(toraOn(target, 'import', file)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('only be imported into a server without users') as unknown,
    });
    await expect(toraOn(source, 'export', '--accounts', '--workspace', 'x')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--accounts exports the whole server') as unknown,
    });
  });
});

const without = (o: Json, keys: readonly string[]): Json =>
  Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));

describe.each(DIALECTS)('tora export / import carry the MLflow tables, %s to the other dialect', (dialect) => {
  let source: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let mlExp: string;
  const tmp = tempDir('transfer-mlflow-');

  const ml = (s: TestServer, user: { key: string }, method: 'GET' | 'POST', p: string, body: Record<string, unknown>) =>
    s.app.inject({
      method,
      url: `/api/2.0/mlflow${p}${method === 'GET' ? `?${new URLSearchParams(body as Record<string, string>).toString()}` : ''}`,
      headers: { authorization: `Bearer ${user.key}` },
      ...(method === 'POST' ? { payload: body } : {}),
    });

  /** What MLflow's client reads of every run of an experiment (deleted ones too), minus ids that differ by design. */
  async function mlflowView(s: TestServer, user: { key: string }, experimentId: string) {
    const experiment = (await ml(s, user, 'GET', '/experiments/get', { experiment_id: experimentId })).json<{
      experiment: Json;
    }>().experiment;
    const search = await ml(s, user, 'POST', '/runs/search', { experiment_ids: [experimentId], run_view_type: 'ALL' });
    const runs = [];
    for (const r of search.json<{ runs: { info: { run_id: string } }[] }>().runs) {
      const got = (await ml(s, user, 'GET', '/runs/get', { run_id: r.info.run_id })).json<{ run: { info: Json; data: Json } }>()
        .run;
      const info = without(got.info, ['run_id', 'run_uuid', 'experiment_id', 'artifact_uri']);
      runs.push({ info, data: got.data });
    }
    const rest = without(experiment, ['experiment_id', 'artifact_location', 'creation_time', 'last_update_time', 'name']);
    return { experiment: rest, runs };
  }

  beforeAll(async () => {
    source = await startTestServer(dialect);
    alice = await signUp(source.app, 'alice@example.com');
    bob = await signUp(source.app, 'bob@example.com');
    mlExp = (
      await ml(source, alice, 'POST', '/experiments/create', { name: 'mlflow-exp', tags: [{ key: 'team', value: 'vision' }] })
    ).json<{ experiment_id: string }>().experiment_id;
    await ml(source, alice, 'POST', '/experiments/set-experiment-tag', {
      experiment_id: mlExp,
      key: 'mlflow.note.content',
      value: 'notes',
    });
    for (const [name, deleted] of [
      ['kept', false],
      ['deleted', true],
    ] as const) {
      const runId = (
        await ml(source, alice, 'POST', '/runs/create', {
          experiment_id: mlExp,
          run_name: name,
          start_time: deleted ? 1_700_000_001_000 : 1_700_000_000_000,
          tags: [
            { key: 'mlflow.source.name', value: 'train.py' },
            { key: 'mlflow.user', value: 'alice' },
          ],
        })
      ).json<{ run: { info: { run_id: string } } }>().run.info.run_id;
      await ml(source, alice, 'POST', '/runs/log-batch', {
        run_id: runId,
        params: [{ key: 'lr', value: '0.01' }],
        metrics: [{ key: 'val/loss', value: 0.25, timestamp: 1_700_000_000_500, step: 3 }],
        tags: [{ key: 'stage', value: name }],
      });
      await ml(source, alice, 'POST', '/runs/update', { run_id: runId, status: 'FINISHED', end_time: 1_700_000_009_000 });
      if (deleted) expect((await ml(source, alice, 'POST', '/runs/delete', { run_id: runId })).statusCode).toBe(200);
    }
    // A second MLflow experiment, deleted through MLflow (with --accounts it travels deleted).
    const gone = (await ml(source, bob, 'POST', '/experiments/create', { name: 'gone', tags: [{ key: 'k', value: 'v' }] })).json<{
      experiment_id: string;
    }>().experiment_id;
    await ml(source, bob, 'POST', '/runs/create', { experiment_id: gone, run_name: 'in-gone', start_time: 1_700_000_000_000 });
    expect((await ml(source, bob, 'POST', '/experiments/delete', { experiment_id: gone })).statusCode).toBe(200);
  });

  afterAll(async () => {
    await source.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a workspace export imported elsewhere answers runs/get and experiments/get the same; a version-1 file still imports', async () => {
    const storage = { dataDir: source.dataDir, databaseUrl: source.databaseUrl };
    const file = path.join(tmp, 'ws.jsonl');
    await toraOn(storage, 'export', '--workspace', mlExp, '--out', file);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    const records = lines.map((l) => JSON.parse(l) as Json);
    const deletedByName = records
      .filter((r) => r.type === 'experiment')
      .map((r) => [r.name, (r.mlflow as Json).deletedAt !== null]);
    expect(Object.fromEntries(deletedByName)).toEqual({ kept: false, deleted: true });
    // The same file as a version-1 server wrote it: no MLflow fields.
    const v1 = path.join(tmp, 'ws-v1.jsonl');
    const strip = (r: Json): Json => {
      if (r.type === 'tora-export') return { ...r, version: 1 };
      if (r.type !== 'experiment') return r;
      return { ...without(r, ['mlflow']), workspace: { id: (r.workspace as Json).id, name: (r.workspace as Json).name } };
    };
    fs.writeFileSync(v1, `${records.map((r) => JSON.stringify(strip(r))).join('\n')}\n`);

    const target = await freshStorage(other(dialect));
    await toraOn(target, 'user', 'create', '--email', 'carol@example.com', '--password', 'correct horse battery');
    const first = await toraOn(target, 'import', file, '--email', 'carol@example.com');
    expect(first.stdout).toContain('imported 2 experiments (0 already there) and 2 points (0 already there)');
    const again = await toraOn(target, 'import', file, '--email', 'carol@example.com');
    expect(again.stdout).toContain('imported 0 experiments (2 already there) and 0 points (2 already there)');
    const server = await startTestServer(other(dialect), {
      TORA_DATA_DIR: target.dataDir,
      TORA_DATABASE_URL: target.databaseUrl ?? '',
    });
    try {
      const carol = { key: await keyFor(server, 'carol@example.com') };
      const before = await mlflowView(source, alice, mlExp);
      expect(before.runs.map((r) => r.info.lifecycle_stage)).toEqual(expect.arrayContaining(['active', 'deleted']));
      expect(await mlflowView(server, carol, '0')).toEqual(before);
      // The deleted run stays out of Tora's own list there too.
      const listed = (await call(server.app, carol, 'GET', '/api/experiments')).json<{ experiments: Json[] }>();
      expect(listed.experiments.map((e) => e.name)).toEqual(['kept']);

      const v1Ws = (await call(server.app, carol, 'POST', '/api/workspaces', { name: 'old-file' })).json<{ id: string }>().id;
      const old = await toraOn(target, 'import', v1, '--email', 'carol@example.com', '--workspace', v1Ws);
      expect(old.stdout).toContain('imported 2 experiments (0 already there) and 2 points (0 already there)');
      const fromV1 = await mlflowView(server, carol, v1Ws);
      expect(fromV1.experiment.tags).toEqual([]);
      expect(fromV1.runs.map((r) => r.info.lifecycle_stage)).toEqual(['active', 'active']);
    } finally {
      await server.close();
    }
  });

  it('with --accounts, a workspace deleted through MLflow arrives deleted, with its tags and runs', async () => {
    const file = path.join(tmp, 'server.jsonl');
    await toraOn({ dataDir: source.dataDir, databaseUrl: source.databaseUrl }, 'export', '--accounts', '--out', file);
    const target = await freshStorage(other(dialect));
    await toraOn(target, 'import', file);
    const server = await startTestServer(other(dialect), {
      TORA_DATA_DIR: target.dataDir,
      TORA_DATABASE_URL: target.databaseUrl ?? '',
    });
    try {
      for (const user of [alice, bob]) {
        const all = (await ml(source, user, 'POST', '/experiments/search', { view_type: 'ALL' })).json<{ experiments: Json[] }>();
        expect(all.experiments.length).toBeGreaterThan(1);
        for (const e of all.experiments) {
          const id = e.experiment_id as string;
          expect(await mlflowView(server, user, id), `${user.email} ${id}`).toEqual(await mlflowView(source, user, id));
        }
        const there = (await ml(server, user, 'POST', '/experiments/search', { view_type: 'ALL' })).json<{
          experiments: Json[];
        }>();
        expect(there.experiments).toEqual(all.experiments);
      }
      const deleted = (await ml(server, bob, 'POST', '/experiments/search', { view_type: 'DELETED_ONLY' })).json<{
        experiments: Json[];
      }>();
      expect(deleted.experiments.map((e) => [e.name, e.tags])).toEqual([['gone', [{ key: 'k', value: 'v' }]]]);
    } finally {
      await server.close();
    }
  });
});
