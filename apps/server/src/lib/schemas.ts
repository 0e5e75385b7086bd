import { Type, type Static, type TSchema } from '@sinclair/typebox';

export const Uuid = Type.String({ format: 'uuid', description: 'UUID' });
export const IdParams = Type.Object({ id: Uuid });

/**
 * An experiment's status, defined once: the API's schemas, the stored column's type, the list's
 * filter and MLflow's status mapping all use it. "crashed" is also what a running experiment reads
 * as once it has been silent past the crash timeout.
 */
export const STATUSES = ['running', 'finished', 'failed', 'crashed'] as const;
export const Status = Type.Union(STATUSES.map((s) => Type.Literal(s)));
export type ExperimentStatus = Static<typeof Status>;

export function isStatus(s: string): s is ExperimentStatus {
  return (STATUSES as readonly string[]).includes(s);
}

/** Whether lower or higher values of a metric are better. */
export const Direction = Type.Union([Type.Literal('min'), Type.Literal('max')]);
export type MetricDirection = Static<typeof Direction>;

/** A member's role in a workspace, weakest first (access.ts ranks them in this order). */
export const ROLES = ['viewer', 'editor', 'admin', 'owner'] as const;
export const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));
export type Role = Static<typeof RoleSchema>;

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'ErrorResponse' },
);

export const Success = Type.Object({ success: Type.Literal(true) });

const ERROR_REF = Type.Ref('ErrorResponse');

/** Declares the success schema(s) of a route plus the shared error shape for every 4xx. */
export function responses(ok: Record<number, TSchema>): Record<number, TSchema> {
  const out: Record<number, TSchema> = { ...ok };
  for (const status of [400, 401, 403, 404, 409, 413, 415, 429, 503]) out[status] = ERROR_REF;
  return out;
}

/**
 * Like `responses`, for a route whose success is not JSON (CSV): each status names its media
 * type, so the document says errors still come as JSON.
 */
export function mediaResponses(
  okStatus: number,
  okType: string,
  okSchema: TSchema,
  description: string,
): Record<number, unknown> {
  const out: Record<number, unknown> = { [okStatus]: { description, content: { [okType]: { schema: okSchema } } } };
  for (const status of [400, 401, 403, 404, 409, 413, 415, 429, 503]) {
    out[status] = { description: 'Error', content: { 'application/json': { schema: ERROR_REF } } };
  }
  return out;
}

/** Epoch milliseconds to the API's ISO-8601 strings. */
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export const IsoDate = Type.String({ format: 'date-time' });
