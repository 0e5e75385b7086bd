import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DIALECTS,
  call,
  createExperiment,
  errorCode,
  signUp,
  startTestServer,
  type TestServer,
  type TestUser,
} from '../harness.js';

/**
 * Malformed and hostile requests: each gets a 4xx in the one error shape (never a 500, never a
 * stack trace), and the database is exactly as it was before the request. The case tables live
 * beside this file, one per route family (`*.cases.ts`); each `hostile-input.*.test.ts` runs one of
 * them through `hostileSuite` against a fixture workspace on each dialect.
 */

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface Fixture {
  ws: string;
  /** An experiment with a `loss` series of 3 points (steps 0..2) and one committed batchId. */
  exp: string;
  /** A second experiment of the workspace (a valid reference target). */
  other: string;
}

export interface Case {
  name: string;
  method: Method;
  url: (f: Fixture) => string;
  /** A JSON body (serialized by inject), or a raw string body sent as-is. */
  json?: (f: Fixture) => unknown;
  raw?: () => string;
  contentType?: string;
  headers?: Record<string, string>;
  /** Acceptable statuses (all 4xx). */
  status: number | readonly number[];
  code?: string | readonly string[];
  /** A field path that must appear in error.details. */
  path?: string;
  /** Text the error message must contain (e.g. the published limit). */
  message?: string;
}

export const deep = (levels: number, open: string, close: string, inner = ''): string =>
  open.repeat(levels) + inner + close.repeat(levels);
export const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
export const MiB = 1024 * 1024;

export const UNKNOWN = '00000000-0000-4000-8000-000000000000';
/** 50 well-formed ids no experiment has. */
export const MANY_IDS = Array.from({ length: 50 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

/**
 * The cases of `cases` against a fresh server per dialect with a fixture workspace; with
 * `dataChecks`, also the checks that names are data (SQL, HTML) and that NUL bytes and odd numbers
 * never answer 500.
 */
export function hostileSuite(title: string, cases: readonly Case[], opts: { dataChecks?: boolean } = {}): void {
  describe.each(DIALECTS)(`${title} on %s`, (dialect) => {
    let server: TestServer;
    let alice: TestUser;
    let f: Fixture;

    async function snapshot(): Promise<unknown> {
      const db = server.database.db;
      const tables = [
        'users',
        'sessions',
        'api_keys',
        'workspaces',
        'workspace_members',
        'experiments',
        'experiment_tags',
        'metric_series',
        'metric_blocks',
        'metric_batches',
      ] as const;
      const counts: Record<string, number> = {};
      for (const t of tables) {
        counts[t] = Number(
          (
            await db
              .selectFrom(t)
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      }
      const points = await db
        .selectFrom('metric_series')
        .select((eb) => eb.fn.sum<number>('point_count').as('n'))
        .executeTakeFirstOrThrow();
      return {
        counts,
        points: Number(points.n ?? 0),
        experiments: await db.selectFrom('experiments').selectAll().where('workspace_id', '=', f.ws).orderBy('id').execute(),
        series: await db.selectFrom('metric_series').selectAll().orderBy('id').execute(),
        workspaces: await db.selectFrom('workspaces').selectAll().orderBy('id').execute(),
        members: await db
          .selectFrom('workspace_members')
          .select(['workspace_id', 'user_id', 'role'])
          .orderBy('workspace_id')
          .orderBy('user_id')
          .execute(),
      };
    }

    async function send(c: Case): Promise<LightMyRequestResponse> {
      const headers: Record<string, string> = { 'x-api-key': alice.key, ...c.headers };
      if (c.raw) {
        headers['content-type'] = c.contentType ?? 'application/json';
        return server.app.inject({ method: c.method, url: c.url(f), headers, payload: c.raw() });
      }
      const body = c.json?.(f);
      if (c.contentType) headers['content-type'] = c.contentType;
      return server.app.inject({
        method: c.method,
        url: c.url(f),
        headers,
        ...(body === undefined ? {} : { payload: body as object }),
      });
    }

    beforeAll(async () => {
      server = await startTestServer(dialect);
      alice = await signUp(server.app);
      const exp = await createExperiment(server.app, alice, { name: 'target', tags: ['keep'], hyperparams: { lr: 0.1 } });
      const other = await createExperiment(server.app, alice, { name: 'other', referenceId: exp });
      const seeded = await call(server.app, alice, 'POST', `/api/experiments/${exp}/metrics/batch`, {
        batchId: 'seed-batch',
        series: { loss: { steps: [0, 1, 2], values: [1, 0.5, 0.25] } },
      });
      expect(seeded.statusCode).toBe(201);
      f = { ws: alice.defaultWorkspaceId, exp, other };
    });
    afterAll(() => server.close());

    it.each(cases.map((c) => ({ ...c, label: `${c.method} ${c.name}` })))('$label', async (c) => {
      const before = await snapshot();
      const res = await send(c);
      const allowed = typeof c.status === 'number' ? [c.status] : c.status;
      expect(allowed, `${res.statusCode} ${res.body.slice(0, 500)}`).toContain(res.statusCode);
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const code = errorCode(res);
      if (c.code !== undefined) expect(typeof c.code === 'string' ? [c.code] : c.code).toContain(code);
      const error = res.json<{ error: { message: string; details?: { path: string; message: string }[] } }>().error;
      expect(res.body).not.toMatch(/\bat .+\.(ts|js):\d+/); // no stack trace
      if (c.path !== undefined) {
        expect(Array.isArray(error.details), `details of ${res.body.slice(0, 300)}`).toBe(true);
        expect(error.details!.map((d) => d.path)).toContain(c.path);
        for (const d of error.details!) expect(typeof d.message).toBe('string');
      }
      if (c.message !== undefined) expect(error.message.replace(/[,_ ]/g, '')).toContain(c.message);
      expect(await snapshot()).toEqual(before);
    });

    it('the fixture experiment is exactly as seeded after all of that', async () => {
      const exp = (await call(server.app, alice, 'GET', `/api/experiments/${f.exp}`)).json();
      expect(exp).toMatchObject({
        name: 'target',
        tags: ['keep'],
        hyperparams: [{ key: 'lr', value: 0.1 }],
        availableMetrics: ['loss'],
      });
      const raw = (await call(server.app, alice, 'GET', `/api/experiments/${f.exp}/metrics/raw?name=loss`)).json();
      expect(raw.points.map((p: { step: number; value: number }) => [p.step, p.value])).toEqual([
        [0, 1],
        [1, 0.5],
        [2, 0.25],
      ]);
    });

    if (opts.dataChecks) {
      describe('SQL and HTML are data, not code', () => {
        const NAMES = [
          "Robert'); DROP TABLE experiments;--",
          "1' OR '1'='1",
          '<script>alert("x")</script>',
          '<img src=x onerror=alert(1)>',
          '"; DELETE FROM users; --',
          '\\x27 \\u0027 %27',
          'ünïcødé 🚀 مرحبا',
        ];

        it('stores names, descriptions, tags and hyperparams verbatim and returns them as JSON', async () => {
          for (const name of NAMES) {
            const created = await call(server.app, alice, 'POST', '/api/experiments', {
              name,
              description: name,
              tags: [name.replace(/,/g, ';').slice(0, 64)],
              hyperparams: { [name]: name },
            });
            expect(created.statusCode, created.body).toBe(201);
            expect(created.headers['content-type']).toMatch(/^application\/json/);
            const id = created.json().experiment.id as string;
            const got = await call(server.app, alice, 'GET', `/api/experiments/${id}`);
            expect(got.headers['content-type']).toMatch(/^application\/json/);
            // The raw body is JSON text, so `<` never appears as markup outside a JSON string.
            expect(JSON.parse(got.body)).toMatchObject({
              name,
              description: name,
              tags: [name.replace(/,/g, ';').slice(0, 64)],
              hyperparams: [{ key: name, value: name }],
            });
          }
          // The tables are still there and hold what they held.
          const count = await server.database.db
            .selectFrom('experiments')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow();
          expect(Number(count.n)).toBeGreaterThanOrEqual(NAMES.length + 2);
          expect((await call(server.app, alice, 'GET', '/api/auth/me')).statusCode).toBe(200);
        });

        it('stores hostile metric and workspace names verbatim', async () => {
          const exp = await createExperiment(server.app, alice, { name: 'metric names' });
          const names = ["loss'; DROP TABLE metric_series;--", '<b>acc</b>', 'a,"quoted",b'];
          const res = await call(
            server.app,
            alice,
            'POST',
            `/api/experiments/${exp}/metrics/batch`,
            names.map((name, i) => ({ name, value: i, step: 0 })),
          );
          expect(res.statusCode, res.body).toBe(201);
          const listed = (await call(server.app, alice, 'GET', `/api/experiments/${exp}/metrics`)).json();
          expect(listed.metrics.map((m: { name: string }) => m.name).sort()).toEqual([...names].sort());
          for (const name of names) {
            const series = await call(
              server.app,
              alice,
              'GET',
              `/api/experiments/${exp}/metrics/series?name=${encodeURIComponent(name)}`,
            );
            expect(series.statusCode).toBe(200);
            expect(series.json().name).toBe(name);
          }
          const csv = (await call(server.app, alice, 'GET', `/api/experiments/${exp}/metrics/csv`)).body;
          expect(csv).toContain('"a,""quoted"",b",0,2,');
          const ws = await call(server.app, alice, 'POST', '/api/workspaces', {
            name: "<h1>ws</h1>'; --",
            description: '<script></script>',
          });
          expect(ws.statusCode).toBe(201);
          expect(ws.json()).toMatchObject({ name: "<h1>ws</h1>'; --", description: '<script></script>' });
        });

        it('treats LIKE wildcards and quotes in the name search literally', async () => {
          const ws = (await call(server.app, alice, 'POST', '/api/workspaces', { name: 'search' })).json().id as string;
          for (const name of ['100% done', 'under_score', 'plain', "o'brien", 'back\\slash']) {
            await createExperiment(server.app, alice, { name, workspaceId: ws });
          }
          const search = async (q: string) => {
            const res = await call(
              server.app,
              alice,
              'GET',
              `/api/experiments?workspace=${ws}&startwith=${encodeURIComponent(q)}&sort=name`,
            );
            expect(res.statusCode, res.body).toBe(200);
            return res.json<{ experiments: { name: string }[] }>().experiments.map((e) => e.name);
          };
          expect(await search('%')).toEqual(['100% done']);
          expect(await search('_')).toEqual(['under_score']);
          expect(await search("'")).toEqual(["o'brien"]);
          expect(await search('\\')).toEqual(['back\\slash']);
          expect(await search("' OR '1'='1")).toEqual([]);
          const tagged = await call(
            server.app,
            alice,
            'GET',
            `/api/experiments?workspace=${ws}&tags=${encodeURIComponent("x' OR '1'='1")}`,
          );
          expect(tagged.statusCode).toBe(200);
          expect(tagged.json().experiments).toEqual([]);
          const bySqlMetric = await call(
            server.app,
            alice,
            'GET',
            `/api/experiments?workspace=${ws}&sort=${encodeURIComponent("metric:loss'; DROP TABLE experiments;--")}`,
          );
          expect(bySqlMetric.statusCode, bySqlMetric.body).toBe(200);
          expect(bySqlMetric.json().experiments).toHaveLength(5);
        });
      });

      describe('NUL bytes and odd numbers never cause a 500', () => {
        // A NUL is either refused with a 400 or stored and returned verbatim — on both databases alike.
        const nul = 'a\u0000b';
        const probes: { name: string; method: Method; url: (f: Fixture) => string; body?: (f: Fixture) => unknown }[] = [
          { name: 'experiment name', method: 'POST', url: () => '/api/experiments', body: () => ({ name: nul }) },
          {
            name: 'experiment description',
            method: 'POST',
            url: () => '/api/experiments',
            body: () => ({ name: 'x', description: nul }),
          },
          { name: 'experiment tag', method: 'POST', url: () => '/api/experiments', body: () => ({ name: 'x', tags: [nul] }) },
          { name: 'workspace name', method: 'POST', url: () => '/api/workspaces', body: () => ({ name: nul }) },
          { name: 'key name', method: 'POST', url: () => '/api/keys', body: () => ({ name: nul }) },
          { name: 'rename', method: 'PUT', url: (fx) => `/api/experiments/${fx.other}`, body: () => ({ name: nul }) },
          { name: 'name search', method: 'GET', url: () => `/api/experiments?startwith=${encodeURIComponent(nul)}` },
          { name: 'tag filter', method: 'GET', url: () => `/api/experiments?tags=${encodeURIComponent(nul)}` },
          { name: 'metric sort', method: 'GET', url: () => `/api/experiments?sort=${encodeURIComponent(`metric:${nul}`)}` },
          {
            name: 'series name',
            method: 'GET',
            url: (fx) => `/api/experiments/${fx.exp}/metrics/series?name=${encodeURIComponent(nul)}`,
          },
          {
            name: 'raw name',
            method: 'GET',
            url: (fx) => `/api/experiments/${fx.exp}/metrics/raw?name=${encodeURIComponent(nul)}`,
          },
          {
            name: 'csv name',
            method: 'GET',
            url: (fx) => `/api/experiments/${fx.exp}/metrics/csv?name=${encodeURIComponent(nul)}`,
          },
          {
            name: 'member email',
            method: 'POST',
            url: (fx) => `/api/workspaces/${fx.ws}/members`,
            body: () => ({ email: `x${nul}@example.com`, role: 'viewer' }),
          },
          {
            name: 'login email',
            method: 'POST',
            url: () => '/api/auth/login',
            body: () => ({ email: `x${nul}@example.com`, password: 'correct horse battery' }),
          },
          {
            name: 'metadata string',
            method: 'POST',
            url: (fx) => `/api/experiments/${fx.other}/metrics/batch`,
            body: () => [{ name: 'm', value: 1, metadata: { note: nul } }],
          },
          {
            name: 'hyperparam value',
            method: 'POST',
            url: () => '/api/experiments',
            body: () => ({ name: 'x', hyperparams: { k: nul } }),
          },
          {
            name: 'huge list cursor offset',
            method: 'GET',
            url: () => `/api/experiments?cursor=${b64({ o: 1e20 })}`,
          },
          {
            name: 'huge raw cursor',
            method: 'GET',
            url: (fx) => `/api/experiments/${fx.exp}/metrics/raw?name=loss&cursor=${b64([1e20, 1e20])}`,
          },
          {
            name: 'series range 1e308',
            method: 'GET',
            url: (fx) => `/api/experiments/${fx.exp}/metrics/series?name=loss&from=-1e308&to=1e308`,
          },
        ];

        it.each(probes)('$name', async (p) => {
          const body = p.body?.(f);
          const res = await server.app.inject({
            method: p.method,
            url: p.url(f),
            headers: { 'x-api-key': alice.key },
            ...(body === undefined ? {} : { payload: body as object }),
          });
          expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500);
          if (res.statusCode >= 400) {
            expect([400, 401, 404]).toContain(res.statusCode); // 401: a login that matches no account
            errorCode(res);
          } else if (p.method !== 'GET' && body && typeof body === 'object' && !Array.isArray(body)) {
            // Accepted: it must come back verbatim.
            expect(res.body).toContain('\\u0000');
          }
        });
      });
    }
  });
}
