import { describe, expect, it } from 'vitest';
import { DIALECTS, useTestServer, useUser } from './harness.js';
import { mlflowApi } from './mlflow-harness.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** Every MLflow route that reads fields (path parameters filled with a model that does not exist). */
const ROUTES: [Method, string][] = [
  ['POST', '/experiments/create'],
  ['GET', '/experiments/get'],
  ['GET', '/experiments/get-by-name'],
  ['POST', '/experiments/search'],
  ['POST', '/experiments/update'],
  ['POST', '/experiments/delete'],
  ['POST', '/experiments/restore'],
  ['POST', '/experiments/set-experiment-tag'],
  ['POST', '/experiments/delete-experiment-tag'],
  ['POST', '/runs/create'],
  ['GET', '/runs/get'],
  ['POST', '/runs/update'],
  ['POST', '/runs/delete'],
  ['POST', '/runs/restore'],
  ['POST', '/runs/search'],
  ['POST', '/runs/log-batch'],
  ['POST', '/runs/log-metric'],
  ['POST', '/runs/log-parameter'],
  ['POST', '/runs/set-tag'],
  ['POST', '/runs/delete-tag'],
  ['POST', '/runs/log-inputs'],
  ['POST', '/runs/outputs'],
  ['GET', '/artifacts/list'],
  ['GET', '/metrics/get-history'],
  ['GET', '/metrics/get-history-bulk-interval'],
  ['POST', '/logged-models'],
  ['POST', '/logged-models/search'],
  ['GET', '/logged-models/m-none/artifacts/directories'],
  ['PATCH', '/logged-models/m-none'],
  ['PATCH', '/logged-models/m-none/tags'],
  ['POST', '/logged-models/m-none/params'],
  ['POST', '/registered-models/create'],
  ['GET', '/registered-models/get'],
  ['POST', '/registered-models/rename'],
  ['PATCH', '/registered-models/update'],
  ['DELETE', '/registered-models/delete'],
  ['GET', '/registered-models/search'],
  ['POST', '/registered-models/get-latest-versions'],
  ['POST', '/registered-models/set-tag'],
  ['DELETE', '/registered-models/delete-tag'],
  ['POST', '/registered-models/alias'],
  ['GET', '/registered-models/alias'],
  ['DELETE', '/registered-models/alias'],
  ['POST', '/model-versions/create'],
  ['GET', '/model-versions/get'],
  ['PATCH', '/model-versions/update'],
  ['POST', '/model-versions/transition-stage'],
  ['DELETE', '/model-versions/delete'],
  ['GET', '/model-versions/search'],
  ['GET', '/model-versions/get-download-uri'],
  ['POST', '/model-versions/set-tag'],
  ['DELETE', '/model-versions/delete-tag'],
];

const FIELDS = [
  'name',
  'new_name',
  'experiment_id',
  'experiment_name',
  'experiment_ids',
  'run_id',
  'key',
  'value',
  'metrics',
  'params',
  'tags',
  'datasets',
  'models',
  'status',
  'end_time',
  'start_time',
  'max_results',
  'filter',
  'order_by',
  'page_token',
  'metric_key',
  'run_ids',
  'path',
  'version',
  'alias',
  'stage',
  'source',
  'description',
  'view_type',
  'run_view_type',
  'stages',
];

/** Bodies that hold each field with a value of a wrong type, one kind at a time. */
const HOSTILE: [string, (field: string) => unknown][] = [
  ['null', () => null],
  ['an object', () => ({ a: 1 })],
  ['a number', () => 12],
  ['a list of nulls', () => [null]],
  ['a list of objects', () => [{}]],
  ['a boolean', () => true],
];

describe.each(DIALECTS)("MLflow's error messages on %s", (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);
  const { ml, mlError } = mlflowApi(server);

  it('name the parameter, never a JavaScript undefined, null, NaN or [object Object], and answer 4xx', async () => {
    const bad: string[] = [];
    const check = async (method: Method, path: string, body: object, what: string) => {
      const res = await ml(alice, method, path, body);
      if (res.statusCode >= 500) bad.push(`${method} ${path} ${what}: ${res.statusCode} ${res.body}`);
      if (res.statusCode < 400) return;
      mlError(res);
      const message = res.json<{ message: string }>().message;
      // The caller's own value may be quoted back (MLflow says "Invalid value [null] for parameter 'x'"); a missing one never reads as text.
      if (/\bundefined\b|\[object |'null'|'NaN'|value NaN/.test(message) || message.trim() === '') {
        bad.push(`${method} ${path} ${what}: ${message}`);
      }
    };
    for (const [method, path] of ROUTES) {
      await check(method, path, {}, 'with no fields');
      if (method === 'GET' || method === 'DELETE') continue;
      for (const [kind, value] of HOSTILE) {
        await check(method, path, Object.fromEntries(FIELDS.map((f) => [f, value(f)])), `with every field ${kind}`);
      }
      // Each item of the list fields wrongly shaped, the rest of the request right.
      for (const item of [null, 5, { key: null }, { key: 'k', value: { a: 1 } }, { dataset: null }, { model_id: 7 }]) {
        await check(
          method,
          path,
          { run_id: 'r', metrics: [item], params: [item], tags: [item], datasets: [item], models: [item] },
          `with a list item ${JSON.stringify(item)}`,
        );
      }
    }
    expect(bad).toEqual([]);
  });

  it("word a mistyped field as MLflow's server does: \"Invalid value <value> for parameter '<name>' supplied\"", async () => {
    const { newExperiment, newRun } = mlflowApi(server);
    const runId = await newRun(alice, await newExperiment(alice));
    const metric = { run_id: runId, key: 'm', value: 31, timestamp: 59, step: 41 };
    const cases: [string, object, string][] = [
      ['/runs/log-metric', { ...metric, run_id: 31 }, "Invalid value 31 for parameter 'run_id' supplied"],
      ['/runs/log-metric', { ...metric, key: 31 }, "Invalid value 31 for parameter 'key' supplied"],
      ['/runs/log-metric', { ...metric, step: 'foo' }, `Invalid value "foo" for parameter 'step' supplied`],
      ['/runs/log-metric', { ...metric, timestamp: 'foo' }, `Invalid value "foo" for parameter 'timestamp' supplied`],
      ['/runs/log-parameter', { run_id: runId, key: 31, value: '1' }, "Invalid value 31 for parameter 'key' supplied"],
      ['/runs/set-tag', { run_id: runId, key: 'k', value: 41 }, "Invalid value 41 for parameter 'value' supplied"],
      ['/runs/log-batch', { run_id: runId, metrics: 'foo' }, `Invalid value "foo" for parameter 'metrics' supplied`],
      ['/runs/log-batch', { run_id: runId, params: 'foo' }, `Invalid value "foo" for parameter 'params' supplied`],
      ['/runs/log-batch', { run_id: runId, tags: 'foo' }, `Invalid value "foo" for parameter 'tags' supplied`],
      [
        '/runs/log-batch',
        { run_id: runId, metrics: [{ key: 'm', value: 1, timestamp: 1, step: 'x' }] },
        `Invalid value "x" for parameter 'metrics[0].step' supplied`,
      ],
      ['/experiments/create', { name: 'e', tags: '5' }, `Invalid value "5" for parameter 'tags' supplied`],
      [
        '/runs/search',
        { experiment_ids: ['0'], max_results: 123456789 },
        "Invalid value 123456789 for parameter 'max_results' supplied",
      ],
    ];
    for (const [path, body, expected] of cases) {
      const res = await ml(alice, 'POST', path, body);
      expect(res.statusCode, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(mlError(res)).toBe('INVALID_PARAMETER_VALUE');
      expect(res.json<{ message: string }>().message).toContain(expected);
    }
    // A number is quoted as the body wrote it (MLflow's test_create_experiment_validation sends 9.0).
    const written: [string, string, string][] = [
      ['/experiments/create', '{"name": "e", "artifact_location": 9.0}', "Invalid value 9.0 for parameter 'artifact_location'"],
      ['/experiments/create', '{"name": 1e3}', "Invalid value 1e3 for parameter 'name'"],
      ['/runs/search', '{"experiment_ids": ["0"], "max_results": 2.50}', "Invalid value 2.50 for parameter 'max_results'"],
    ];
    for (const [path, payload, expected] of written) {
      const res = await server.app.inject({
        method: 'POST',
        url: `/api/2.0/mlflow${path}`,
        headers: { authorization: `Bearer ${alice.key}`, 'content-type': 'application/json' },
        payload,
      });
      expect(res.statusCode, payload).toBe(400);
      expect(res.json<{ message: string }>().message).toContain(expected);
    }
    // Fastify's own JSON checks still hold on these routes: bad JSON and __proto__ keys are 400s.
    for (const payload of ['{"name": ', '{"name": "e", "__proto__": {"x": 1}}']) {
      const res = await server.app.inject({
        method: 'POST',
        url: '/api/2.0/mlflow/experiments/create',
        headers: { authorization: `Bearer ${alice.key}`, 'content-type': 'application/json' },
        payload,
      });
      expect(res.statusCode, payload).toBe(400);
      expect(mlError(res)).toBe('INVALID_PARAMETER_VALUE');
    }
    // Nothing of a refused request was written.
    const run = await ml(alice, 'GET', '/runs/get', { run_id: runId });
    expect(run.json<{ run: { data: { metrics?: unknown[]; tags?: { key: string }[] } } }>().run.data.metrics ?? []).toEqual([]);
  });

  it("get-history-bulk-interval refuses what MLflow's refuses, in its words: too many runs, one end of a step range, a reversed range", async () => {
    const { newExperiment, newRun } = mlflowApi(server);
    const runId = await newRun(alice, await newExperiment(alice));
    const cases: [object, string][] = [
      [
        { run_ids: Array.from({ length: 101 }, (_, i) => `id_${i}`), metric_key: 'k' },
        'GetMetricHistoryBulkInterval request must specify at most 100 run_ids.',
      ],
      [{ run_ids: [runId], metric_key: 'k', max_results: 0 }, 'max_results must be between 1 and 2500'],
      [
        { run_ids: [runId], metric_key: 'k', start_step: 1 },
        'If either start step or end step are specified, both must be specified.',
      ],
      [
        { run_ids: [runId], metric_key: 'k', end_step: 1 },
        'If either start step or end step are specified, both must be specified.',
      ],
      [{ run_ids: [runId], metric_key: 'k', start_step: 1, end_step: 0 }, 'end_step must be greater than start_step. '],
    ];
    for (const [query, expected] of cases) {
      const res = await ml(alice, 'GET', '/metrics/get-history-bulk-interval', query);
      expect(res.statusCode, JSON.stringify(query)).toBe(400);
      expect(mlError(res)).toBe('INVALID_PARAMETER_VALUE');
      expect(res.json<{ message: string }>().message).toContain(expected);
    }
    // A range of one step is a range.
    const one = await ml(alice, 'GET', '/metrics/get-history-bulk-interval', {
      run_ids: [runId],
      metric_key: 'k',
      start_step: 3,
      end_step: 3,
    });
    expect(one.statusCode).toBe(200);
  });
});
