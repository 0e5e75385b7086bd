import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { TestServer, TestUser } from './harness.js';

/**
 * MLflow's REST API as its client calls it (Bearer key; GET fields in the query string, POST
 * fields as JSON), for the MLflow test files that came after mlflow.api.test.ts.
 */
export function mlflowApi(server: TestServer, base = '/api/2.0/mlflow') {
  const ml = (user: TestUser | null, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: object) => {
    const headers: Record<string, string> = user ? { authorization: `Bearer ${user.key}` } : {};
    if (method === 'GET' || method === 'DELETE') {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(body ?? {}) as [string, unknown][]) {
        for (const x of Array.isArray(v) ? (v as unknown[]) : [v]) qs.append(k, String(x));
      }
      return server.app.inject({ method, url: `${base}${path}?${qs.toString()}`, headers });
    }
    return server.app.inject({ method, url: `${base}${path}`, headers, payload: body ?? {} });
  };

  /** The error code of an answer in MLflow's shape; throws when the shape is not MLflow's. */
  const mlError = (res: LightMyRequestResponse): string => {
    const body = res.json<{ error_code?: unknown; message?: unknown }>();
    if (typeof body.error_code !== 'string' || typeof body.message !== 'string') {
      throw new Error(`not MLflow's error shape: ${res.body}`);
    }
    return body.error_code;
  };

  async function newExperiment(user: TestUser, name = `exp-${Math.random().toString(36).slice(2)}`): Promise<string> {
    const res = await ml(user, 'POST', '/experiments/create', { name });
    expect(res.statusCode).toBe(200);
    return res.json<{ experiment_id: string }>().experiment_id;
  }

  async function newRun(user: TestUser, experimentId: string, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await ml(user, 'POST', '/runs/create', { experiment_id: experimentId, start_time: 1_700_000_000_000, ...extra });
    expect(res.statusCode).toBe(200);
    return res.json<{ run: { info: { run_id: string } } }>().run.info.run_id;
  }

  return { ml, mlError, newExperiment, newRun };
}
