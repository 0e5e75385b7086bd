import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { databaseUnavailable } from './db/errors.js';

export type ErrorCode =
  | 'VALIDATION_ERROR'
  | 'INVALID_JSON'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNAUTHORIZED'
  | 'INVALID_API_KEY'
  | 'INVALID_CREDENTIALS'
  | 'CSRF_REJECTED'
  | 'HOST_NOT_ALLOWED'
  | 'FORBIDDEN'
  | 'SIGNUP_DISABLED'
  | 'RATE_LIMITED'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'EXPERIMENT_NOT_FOUND'
  | 'WORKSPACE_NOT_FOUND'
  | 'KEY_NOT_FOUND'
  | 'USER_NOT_FOUND'
  | 'MEMBER_NOT_FOUND'
  | 'METRIC_NOT_FOUND'
  | 'REFERENCE_NOT_FOUND'
  | 'EMAIL_TAKEN'
  | 'ALREADY_MEMBER'
  | 'LAST_OWNER'
  | 'REFERENCE_CYCLE'
  | 'BATCH_ID_CONFLICT'
  | 'AI_PROVIDER_UNAVAILABLE'
  | 'INVALID_EXPORT'
  | 'DATABASE_UNAVAILABLE'
  | 'QUERY_TIMEOUT'
  | 'INTERNAL_ERROR';

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const notFound = (code: ErrorCode, what: string): AppError => new AppError(code, 404, `${what} not found`);
export const badRequest = (message: string, details?: unknown): AppError =>
  new AppError('VALIDATION_ERROR', 400, message, details);

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function fieldPath(context: string | undefined, issue: ValidationIssue): string {
  const base = context === 'querystring' ? 'query' : (context ?? 'body');
  let p = (issue.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const missing = issue.params?.missingProperty;
  if (typeof missing === 'string') p = p ? `${p}.${missing}` : missing;
  const extra = issue.params?.additionalProperty;
  if (typeof extra === 'string') p = p ? `${p}.${extra}` : extra;
  return p ? `${base}.${p}` : base;
}

/** Installs the one error handler: every failure leaves as `{error: {code, message, details?}}`. */
export function installErrorHandler(
  app: FastifyInstance,
  unrouted: (request: FastifyRequest, reply: FastifyReply) => FastifyReply,
): void {
  app.setErrorHandler((thrown: FastifyError | AppError, request, reply) => {
    const unavailable = databaseUnavailable(thrown);
    if (unavailable) request.log.warn({ err: thrown }, unavailable.message);
    const error = unavailable ?? thrown;
    // No route took the request and parsing its body failed first (e.g. QUERY without a
    // Content-Type): the answer is still the 404/405 of an unrouted request, not a 400.
    if (request.is404 && !(error instanceof AppError)) return unrouted(request, reply);
    if (error instanceof AppError) {
      const body: { code: ErrorCode; message: string; details?: unknown } = { code: error.code, message: error.message };
      if (error.details !== undefined) body.details = error.details;
      return reply.status(error.status).send({ error: body });
    }
    if (error.validation) {
      const issues = (error.validation as ValidationIssue[]).map((issue) => ({
        path: fieldPath(error.validationContext, issue),
        message: issue.message ?? 'is invalid',
      }));
      const first = issues[0];
      const message = first ? `${first.path} ${first.message}` : 'Invalid request';
      return reply.status(400).send({ error: { code: 'VALIDATION_ERROR', message, details: issues } });
    }
    const status = error.statusCode ?? 500;
    if (status === 413 || error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.status(413).send({
        error: {
          code: 'PAYLOAD_TOO_LARGE',
          message: `Request body exceeds the limit of ${request.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit ?? 0} bytes`,
        },
      });
    }
    if (status === 415 || error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply
        .status(415)
        .send({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Content-Type must be application/json' } });
    }
    if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
      return reply.status(400).send({ error: { code: 'INVALID_JSON', message: 'Request body is not valid JSON' } });
    }
    if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      return reply.status(400).send({ error: { code: 'INVALID_JSON', message: 'Request body is empty' } });
    }
    if (status >= 400 && status < 500) {
      return reply.status(status).send({ error: { code: 'VALIDATION_ERROR', message: error.message } });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ error: { code: 'INTERNAL_ERROR', message: 'Internal server error' } });
  });
}
