import type { AppContext, Caller } from '../../context.js';
import { defaultWorkspaceOf as defaultOf } from '../auth/auth.service.js';
import { DEFAULT_EXPERIMENT_ID } from './mlflow.experiments.service.js';
import { JsonText } from './mlflow.request.js';

/**
 * MLflow's default experiment is `"0"`: a client that sets no experiment creates its runs there
 * and reads them back with `experiment_id "0"`. In Tora it is the caller's default workspace, so
 * at the HTTP boundary that workspace's id reads as "0" in every `experiment_id` the caller is
 * answered (its artifact URIs keep the real id: they are paths). Requests take either id
 * (workspaceFor reads "0"). Another member of the same workspace sees its real id.
 */
/** The caller's default workspace, the one that reads as "0"; null when the caller has none. */
export async function defaultWorkspaceOf(ctx: AppContext, caller: Caller): Promise<string | null> {
  return defaultOf(ctx, caller.userId);
}

/** Every `experiment_id` field equal to the default workspace's id, as "0", through objects and lists. */
function renamed(value: unknown, workspaceId: string): unknown {
  if (Array.isArray(value)) return value.map((v) => renamed(v, workspaceId));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = k === 'experiment_id' && v === workspaceId ? DEFAULT_EXPERIMENT_ID : renamed(v, workspaceId);
  }
  return out;
}

/**
 * An answer with the default workspace's id read as "0". A JsonText answer is rewritten as text:
 * a field is `"experiment_id":"<id>"` exactly there, and nowhere else (a string holding those
 * characters is escaped in JSON, `\"experiment_id\":…`, so it never matches).
 */
export function withDefaultExperiment(answer: unknown, workspaceId: string | null): unknown {
  if (workspaceId === null) return answer;
  if (answer instanceof JsonText) {
    const field = `"experiment_id":${JSON.stringify(workspaceId)}`;
    return answer.text.includes(field)
      ? new JsonText(answer.text.replaceAll(field, `"experiment_id":"${DEFAULT_EXPERIMENT_ID}"`))
      : answer;
  }
  return renamed(answer, workspaceId);
}
