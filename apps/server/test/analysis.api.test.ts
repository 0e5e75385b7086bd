import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DIALECTS,
  addMember,
  call,
  createExperiment,
  createWorkspace,
  errorCode,
  signUp,
  useTestServer,
  useUser,
  type TestServer,
  type TestUser,
} from './harness.js';

const GOOD = {
  summary: 'LLM summary',
  hyperparameter_recommendations: { lr: { recommendation: 'lower it', importance_level: 4 } },
  findings: [{ kind: 'divergence', severity: 'critical', metric: 'loss', steps: [600, 999], message: 'diverged' }],
};

/** A stand-in LLM that speaks the provider's real wire format; `script` decides each answer. */
async function fakeProvider(kind: 'anthropic' | 'openai') {
  const requests: { url: string; headers: http.IncomingHttpHeaders; body: Record<string, unknown> }[] = [];
  let script: (n: number) => { status?: number; text?: string; raw?: string; delayMs?: number; redirect?: string } = () => ({
    text: JSON.stringify(GOOD),
  });
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      requests.push({ url: req.url ?? '', headers: req.headers, body: JSON.parse(data) as Record<string, unknown> });
      const a = script(requests.length);
      setTimeout(() => {
        if (res.destroyed) return;
        if (a.redirect !== undefined) {
          // 307 keeps the method and body: a client that follows it re-sends the whole request.
          res.writeHead(307, { location: a.redirect });
          return res.end();
        }
        res.statusCode = a.status ?? 200;
        res.setHeader('content-type', 'application/json');
        if (a.raw !== undefined) return res.end(a.raw);
        if ((a.status ?? 200) !== 200) return res.end(JSON.stringify({ error: { message: 'nope' } }));
        const text = a.text ?? '';
        res.end(
          JSON.stringify(
            kind === 'anthropic'
              ? { id: 'msg_1', type: 'message', role: 'assistant', content: [{ type: 'text', text }], stop_reason: 'end_turn' }
              : {
                  id: 'c1',
                  object: 'chat.completion',
                  choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
                },
          ),
        );
      }, a.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    base: kind === 'anthropic' ? `http://127.0.0.1:${port}` : `http://127.0.0.1:${port}/v1`,
    requests,
    setScript(s: typeof script) {
      script = s;
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function divergingRun(server: TestServer, user: TestUser, body: Record<string, unknown> = {}): Promise<string> {
  const id = await createExperiment(server.app, user, { hyperparams: { lr: 0.1 }, ...body });
  const steps = Array.from({ length: 1000 }, (_, i) => i);
  const values = steps.map((s) => (2 * Math.exp(-s / 300) + 0.1) * (s < 600 ? 1 : Math.exp((s - 600) / 60)));
  const res = await call(server.app, user, 'POST', `/api/experiments/${id}/metrics/batch`, {
    series: { loss: { steps, values } },
  });
  expect(res.statusCode).toBe(201);
  return id;
}

describe.each(DIALECTS)('analysis API (built-in) on %s', (dialect) => {
  const server = useTestServer(dialect);
  const [owner, viewer, other] = [useUser(server), useUser(server), useUser(server)];
  let ws: string;
  beforeAll(async () => {
    ws = await createWorkspace(server.app, owner);
    await addMember(server.app, owner, ws, viewer, 'viewer');
  });

  it('lets readers analyze (viewer 200, other user 404, anonymous 401) and finds the planted divergence', async () => {
    const id = await divergingRun(server, owner, { workspaceId: ws });
    const res = await call(server.app, viewer, 'GET', `/api/ai/analysis?experimentId=${id}`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ experimentId: id, provider: 'builtin', cached: false, primaryMetric: 'loss' });
    const div = body.findings.find((f: { kind: string }) => f.kind === 'divergence');
    expect(div.metric).toBe('loss');
    expect(Math.abs(div.steps[0] - 600)).toBeLessThanOrEqual(120);
    expect(body.hyperparameter_recommendations.lr.importance_level).toBeGreaterThanOrEqual(1);
    expect(errorCode(await call(server.app, other, 'GET', `/api/ai/analysis?experimentId=${id}`))).toBe('EXPERIMENT_NOT_FOUND');
    expect(errorCode(await call(server.app, other, 'GET', `/api/ai/analysis?experimentId=${randomUUID()}`))).toBe(
      'EXPERIMENT_NOT_FOUND',
    );
    expect((await call(server.app, null, 'GET', `/api/ai/analysis?experimentId=${id}`)).statusCode).toBe(401);
    expect((await call(server.app, null, 'POST', '/api/ai/analysis', { experimentId: id })).statusCode).toBe(401);
  });

  it('caches until new data arrives', async () => {
    const id = await divergingRun(server, owner);
    expect((await call(server.app, owner, 'POST', '/api/ai/analysis', { experimentId: id })).json().cached).toBe(false);
    expect((await call(server.app, owner, 'POST', '/api/ai/analysis', { experimentId: id })).json().cached).toBe(true);
    await call(server.app, owner, 'POST', `/api/experiments/${id}/metrics/batch`, [{ name: 'loss', value: 'NaN' }]);
    const fresh = (await call(server.app, owner, 'POST', '/api/ai/analysis', { experimentId: id })).json();
    expect(fresh.cached).toBe(false);
    expect(fresh.findings.find((f: { kind: string }) => f.kind === 'nan_inf').steps[0]).toBe(1000);
  });

  it('says a typed question is not answered by the built-in analyzer, and counts a long NaN tail as one stretch, and names the real first step of the run', async () => {
    const id = await createExperiment(server.app, owner);
    // 5000 points: bucketed (budget 2000), so the NaN tail spans hundreds of buckets.
    const steps = Array.from({ length: 5000 }, (_, i) => i);
    const values = steps.map((s) => (s >= 26 ? 'NaN' : 2 - 0.01 * s));
    expect(
      (await call(server.app, owner, 'POST', `/api/experiments/${id}/metrics/batch`, { series: { loss: { steps, values } } }))
        .statusCode,
    ).toBe(201);
    const asked = (
      await call(server.app, owner, 'POST', '/api/ai/analysis', { experimentId: id, question: 'why did loss go NaN?' })
    ).json();
    expect(asked.provider).toBe('builtin');
    expect(asked.summary).toContain('cannot answer typed questions');
    expect(asked.summary).toContain('"why did loss go NaN?"');
    // Buckets carry their last step; the run still starts at step 0.
    expect(asked.summary).toContain('over steps 0–4999');
    const nan = asked.findings.find((f: { kind: string }) => f.kind === 'nan_inf');
    expect(nan.steps).toEqual([26, 4999]);
    expect(nan.message).not.toContain('later stretch');
    const plain = (await call(server.app, owner, 'POST', '/api/ai/analysis', { experimentId: id })).json();
    expect(plain.summary).not.toContain('cannot answer');
  });

  it('refuses a provider this server has not configured', async () => {
    const id = await divergingRun(server, owner);
    const res = await call(server.app, owner, 'POST', '/api/ai/analysis', { experimentId: id, provider: 'openai' });
    expect(errorCode(res)).toBe('AI_PROVIDER_UNAVAILABLE');
  });
});

describe.each(DIALECTS)('analysis with LLM providers on %s', (dialect) => {
  for (const kind of ['anthropic', 'openai'] as const) {
    describe(kind, () => {
      let fake: Awaited<ReturnType<typeof fakeProvider>>;
      const KEY = 'sk-test-secret-123';
      beforeAll(async () => {
        fake = await fakeProvider(kind);
      });
      afterAll(() => fake.close());
      // Started after the fake provider listens (hooks run in order).
      const server = useTestServer(dialect, () => ({
        TORA_AI_PROVIDER: kind,
        TORA_AI_BASE_URL: fake.base,
        TORA_AI_MODEL: 'test-model',
        TORA_AI_API_KEY: KEY,
        TORA_AI_TIMEOUT_MS: '500',
      }));
      const user = useUser(server);
      const analyze = async (body: Record<string, unknown> = {}) => {
        const id = await divergingRun(server, user);
        const res = await call(server.app, user, 'POST', '/api/ai/analysis', { experimentId: id, question: 'why?', ...body });
        expect(res.statusCode).toBe(200);
        expect(res.body).not.toContain(KEY);
        return res.json();
      };

      it('sends the real request format and uses a valid answer', async () => {
        fake.setScript(() => ({ text: 'Here you go:\n```json\n' + JSON.stringify(GOOD) + '\n```' }));
        const body = await analyze();
        expect(body).toMatchObject({ provider: kind, model: 'test-model', summary: 'LLM summary', cached: false });
        expect(body.note).toBeUndefined();
        expect(fake.requests).toHaveLength(1);
        const r = fake.requests[0]!;
        if (kind === 'anthropic') {
          expect(r.url).toBe('/v1/messages');
          expect(r.headers['x-api-key']).toBe(KEY);
          expect(r.headers['anthropic-version']).toBe('2023-06-01');
          expect(r.body).toMatchObject({ model: 'test-model', max_tokens: expect.any(Number), system: expect.any(String) });
        } else {
          expect(r.url).toBe('/v1/chat/completions');
          expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
          expect(r.body).toMatchObject({ model: 'test-model', response_format: { type: 'json_object' } });
        }
        const prompt = JSON.stringify(r.body);
        expect(prompt).toContain('divergence');
        expect(prompt).toContain('why?');
        expect(prompt.length).toBeLessThan(40_000);
      });

      it('retries once, then succeeds', async () => {
        fake.setScript((n) => (n === 1 ? { status: 500 } : { text: JSON.stringify(GOOD) }));
        const body = await analyze();
        expect(body.summary).toBe('LLM summary');
        expect(fake.requests).toHaveLength(2);
      });

      it.each([
        ['malformed JSON', () => ({ text: '{"summary": "oops' }), 'not valid JSON'],
        [
          'a schema-invalid answer',
          () => ({
            text: JSON.stringify({
              summary: 'x',
              hyperparameter_recommendations: { lr: { recommendation: 'x', importance_level: 9 } },
            }),
          }),
          'schema',
        ],
        ['HTTP 500', () => ({ status: 500 }), 'HTTP 500'],
        ['HTTP 429', () => ({ status: 429 }), 'HTTP 429'],
        ['a body that is not JSON', () => ({ raw: '<html>' }), 'not JSON'],
        ['a timeout', () => ({ text: JSON.stringify(GOOD), delayMs: 1500 }), 'no answer within 500 ms'],
      ])('falls back to the built-in analysis with a note after %s', async (_label, script, reason) => {
        fake.setScript(script);
        const body = await analyze();
        expect(fake.requests).toHaveLength(2);
        expect(body.provider).toBe(kind);
        expect(body.note).toContain(reason);
        expect(body.note).not.toContain(KEY);
        expect(body.findings.some((f: { kind: string }) => f.kind === 'divergence')).toBe(true);
        expect(body.summary).toContain('Run "exp"');
      });

      it('never follows a redirect, so the key is not re-sent to the Location', async () => {
        const elsewhere = await fakeProvider(kind);
        try {
          fake.setScript(() => ({ redirect: `${elsewhere.base}${kind === 'anthropic' ? '/v1/messages' : '/chat/completions'}` }));
          const body = await analyze();
          expect(fake.requests).toHaveLength(1);
          expect(elsewhere.requests).toEqual([]);
          expect(body.note).toContain('redirect (HTTP 307)');
          expect(body.note).not.toContain(KEY);
          expect(body.summary).toContain('cannot answer typed questions');
        } finally {
          await elsewhere.close();
        }
      });

      it('still answers with the built-in analyzer on request', async () => {
        fake.setScript(() => ({ status: 500 }));
        const body = await analyze({ provider: 'builtin' });
        expect(body.provider).toBe('builtin');
        expect(fake.requests).toHaveLength(0);
      });
    });
  }
});

describe.each(DIALECTS)('per-user limit on provider calls on %s', (dialect) => {
  let fake: Awaited<ReturnType<typeof fakeProvider>>;
  let now = Date.UTC(2026, 0, 1);
  beforeAll(async () => {
    fake = await fakeProvider('anthropic');
  });
  afterAll(() => fake.close());
  const server = useTestServer(
    dialect,
    () => ({
      TORA_AI_PROVIDER: 'anthropic',
      TORA_AI_BASE_URL: fake.base,
      TORA_AI_API_KEY: 'sk-test',
      TORA_AI_TIMEOUT_MS: '500',
      TORA_AI_CALLS_PER_HOUR: '3',
    }),
    { clock: () => now },
  );
  const ask = (user: TestUser, id: string, question: string, provider?: string) =>
    call(server.app, user, 'POST', '/api/ai/analysis', { experimentId: id, question, ...(provider ? { provider } : {}) });

  it('refuses a burst past the limit with 429 in the error shape, per user, until the hour has passed', async () => {
    fake.setScript(() => ({ text: JSON.stringify(GOOD) }));
    const [alice, bob] = [await signUp(server.app), await signUp(server.app)];
    const id = await divergingRun(server, alice);
    const burst = await Promise.all(Array.from({ length: 6 }, (_, i) => ask(alice, id, `question ${i}`)));
    expect(burst.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 429, 429, 429]);
    expect(fake.requests).toHaveLength(3);
    const refused = burst.find((r) => r.statusCode === 429)!.json();
    expect(refused.error).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSeconds: 3600 } });
    expect(refused.error.message).toContain('At most 3 anthropic provider calls per user per hour');
    // An answer already given is served from the cache; the built-in analyzer is not limited; others keep their budget.
    const answered = burst.findIndex((r) => r.statusCode === 200);
    expect((await ask(alice, id, `question ${answered}`)).json().cached).toBe(true);
    expect((await ask(alice, id, 'new', 'builtin')).statusCode).toBe(200);
    const bobs = await divergingRun(server, bob);
    expect((await ask(bob, bobs, 'mine')).statusCode).toBe(200);
    expect(fake.requests).toHaveLength(4);
    now += 3_600_000;
    expect((await ask(alice, id, 'an hour later')).statusCode).toBe(200);
    expect(fake.requests).toHaveLength(5);
  });

  it('counts retries, and skips a retry the budget no longer covers', async () => {
    fake.setScript(() => ({ status: 500 }));
    const carol = await signUp(server.app);
    const id = await divergingRun(server, carol);
    expect((await ask(carol, id, 'one')).json().note).toContain('HTTP 500');
    expect(fake.requests).toHaveLength(2);
    const second = (await ask(carol, id, 'two')).json();
    expect(second.note).toContain('no retry: the hourly limit of provider calls is reached');
    expect(fake.requests).toHaveLength(3);
    expect(errorCode(await ask(carol, id, 'three'))).toBe('RATE_LIMITED');
    expect(fake.requests).toHaveLength(3);
  });
});

describe.each(DIALECTS)('hyperparameter advice from comparable runs on %s', (dialect) => {
  const server = useTestServer(dialect);
  const owner = useUser(server);

  const LRS = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 0.0003];
  /** A val/loss curve settling at `floor`. */
  async function logRun(id: string, floor: number): Promise<void> {
    const steps = Array.from({ length: 200 }, (_, i) => i);
    const values = steps.map((s) => floor + Math.exp(-s / 40));
    const res = await call(server.app, owner, 'POST', `/api/experiments/${id}/metrics/batch`, {
      series: { 'val/loss': { steps, values } },
    });
    expect(res.statusCode).toBe(201);
  }
  /** An 8-run lr sweep whose best lr is 0.03, beside unrelated runs with lr 0.001 and a far lower loss. */
  async function sweep(ws: string, group: string | undefined): Promise<Record<number, string>> {
    const ids: Record<number, string> = {};
    for (const [i, lr] of LRS.entries()) {
      ids[lr] = await createExperiment(server.app, owner, {
        workspaceId: ws,
        name: `sweep-lr${lr}`,
        ...(group ? { group } : {}),
        hyperparams: { lr, batch_size: 64, seed: 100 + i },
      });
      await logRun(ids[lr], 0.5 + 0.2 * (Math.log10(lr) - Math.log10(0.03)) ** 2);
    }
    for (let i = 0; i < 4; i++) {
      const other = await createExperiment(server.app, owner, {
        workspaceId: ws,
        name: `other-model-${i}`,
        hyperparams: { lr: 0.001, arch: 'vit', dropout: 0.1 * i, weight_decay: 0.05, momentum: 0.9 },
      });
      await logRun(other, 0.01 + 0.001 * i);
    }
    return ids;
  }
  const analyze = async (id: string) =>
    (await call(server.app, owner, 'POST', '/api/ai/analysis', { experimentId: id })).json<{
      summary: string;
      hyperparameter_recommendations: Record<string, { recommendation: string; importance_level: number }>;
      comparedWith: { basis: string; group: string | null; runs: { id: string; name: string }[] };
    }>();

  it('compares a sweep run with its group: the best lr of the sweep, no seed advice, and which runs', async () => {
    const ws = await createWorkspace(server.app, owner, 'grouped');
    const ids = await sweep(ws, 'lr-sweep');
    const a = await analyze(ids[0.3]!);
    expect(a.comparedWith.basis).toBe('group');
    expect(a.comparedWith.group).toBe('lr-sweep');
    expect(a.comparedWith.runs.map((r) => r.name).sort()).toEqual(
      LRS.filter((lr) => lr !== 0.3)
        .map((lr) => `sweep-lr${lr}`)
        .sort(),
    );
    expect(a.hyperparameter_recommendations.lr!.recommendation).toContain('try values around 0.03 ');
    expect(a.hyperparameter_recommendations.seed!.recommendation).toContain('random seed');
    expect(a.hyperparameter_recommendations.seed!.recommendation).not.toMatch(/try|best on average/);
    expect(a.summary).toContain('compared with the 8 runs of group "lr-sweep"');
  });

  it('without a group, compares with the runs sharing most hyperparameter keys', async () => {
    const ws = await createWorkspace(server.app, owner, 'ungrouped');
    const ids = await sweep(ws, undefined);
    const a = await analyze(ids[0.001]!);
    expect(a.comparedWith.basis).toBe('hyperparameters');
    expect(a.comparedWith.runs).toHaveLength(7);
    expect(a.comparedWith.runs.every((r) => r.name.startsWith('sweep-'))).toBe(true);
    expect(a.hyperparameter_recommendations.lr!.recommendation).toContain('try values around 0.03 ');
    expect(a.summary).toContain('runs sharing most of its hyperparameter keys (sweep-lr');
  });

  it('reports one NaN at the step it is at, not the bucket around it', async () => {
    const id = await createExperiment(server.app, owner);
    const steps = Array.from({ length: 3000 }, (_, i) => i);
    const values = steps.map((s) => (s === 900 ? 'NaN' : 1 / (1 + s / 100)));
    expect(
      (await call(server.app, owner, 'POST', `/api/experiments/${id}/metrics/batch`, { series: { loss: { steps, values } } }))
        .statusCode,
    ).toBe(201);
    const a = (await call(server.app, owner, 'POST', '/api/ai/analysis', { experimentId: id })).json<{
      findings: { kind: string; steps: number[]; message: string }[];
    }>();
    const nan = a.findings.find((f) => f.kind === 'nan_inf')!;
    expect(nan.steps).toEqual([900, 900]);
    expect(nan.message).toContain('at step 900,');
  });
});
