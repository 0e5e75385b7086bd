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
  | 'FILE_NOT_FOUND'
  | 'RANGE_NOT_SATISFIABLE'
  | 'WORKSPACE_NOT_FOUND'
  | 'KEY_NOT_FOUND'
  | 'USER_NOT_FOUND'
  | 'MEMBER_NOT_FOUND'
  | 'METRIC_NOT_FOUND'
  | 'REFERENCE_NOT_FOUND'
  | 'TAG_NOT_FOUND'
  | 'INVITE_NOT_FOUND'
  | 'INVITE_INVALID'
  | 'EMAIL_TAKEN'
  | 'ALREADY_MEMBER'
  | 'LAST_OWNER'
  | 'REFERENCE_CYCLE'
  | 'BATCH_ID_CONFLICT'
  | 'AI_PROVIDER_UNAVAILABLE'
  | 'INVALID_EXPORT'
  | 'DATABASE_UNAVAILABLE'
  | 'FILE_STORE_UNAVAILABLE'
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

const PREFIX = /^(body|query|params|headers)(\.|$)/;

/**
 * A field path as a person reads it: `body.password` → "Password", `query.workspaceId` →
 * "Workspace id", `body.series.loss.values.3` → 'Series "loss.values.3"'. The path itself stays
 * in `details` for programs.
 */
export function fieldLabel(path: string): string {
  const rest = path.replace(PREFIX, '');
  if (rest === '') return 'The request';
  const [first, ...more] = rest.split('.');
  const words = first!
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/_/g, ' ')
    .toLowerCase();
  const label = words.charAt(0).toUpperCase() + words.slice(1);
  return more.length === 0 ? label : `${label} "${more.join('.')}"`;
}

/** "Password is too common", not "body.password is too common": a message that starts with its field's path gets the label instead. */
function speak(message: string, details: unknown): string {
  const path = Array.isArray(details) ? (details[0] as { path?: unknown } | undefined)?.path : undefined;
  if (typeof path !== 'string' || !PREFIX.test(path) || !message.startsWith(path)) return message;
  const after = message.slice(path.length);
  return /^[\s:]/.test(after) || after === '' ? `${fieldLabel(path)}${after}` : message;
}

/** A 400 VALIDATION_ERROR; `details` are `[{path, message}]`, and a message naming the path is said in words. */
export const badRequest = (message: string, details?: unknown): AppError =>
  new AppError('VALIDATION_ERROR', 400, speak(message, details), details);

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Ajv's phrasing ("must NOT have fewer than 8 characters") in plain words. */
function plain(issue: ValidationIssue, path: string): string {
  const m = issue.message ?? 'is invalid';
  const p = issue.params ?? {};
  const at = (re: RegExp): string | undefined => re.exec(m)?.[1];
  let n: string | undefined;
  if ((n = at(/^must NOT have fewer than (\d+) characters$/))) return `must be at least ${n} characters long`;
  if ((n = at(/^must NOT have more than (\d+) characters$/))) return `must be at most ${n} characters long`;
  if ((n = at(/^must NOT have fewer than (\d+) items$/))) return `needs at least ${n} item${n === '1' ? '' : 's'}`;
  if ((n = at(/^must NOT have more than (\d+) items$/))) return `can have at most ${n} items`;
  if ((n = at(/^must NOT have more than (\d+) properties$/))) return `can have at most ${n} entries`;
  if ((n = at(/^must be >= (.+)$/))) return `must be at least ${n}`;
  if ((n = at(/^must be <= (.+)$/))) return `must be at most ${n}`;
  if ((n = at(/^must be > (.+)$/))) return `must be greater than ${n}`;
  if ((n = at(/^must be < (.+)$/))) return `must be less than ${n}`;
  if (typeof p.missingProperty === 'string') return 'is required';
  if (typeof p.additionalProperty === 'string') return 'is not a field this request takes';
  if (Array.isArray(p.allowedValues)) return `must be one of: ${p.allowedValues.map(String).join(', ')}`;
  if (typeof p.format === 'string') {
    const formats: Record<string, string> = { email: 'an email address', uuid: 'an id (UUID)', 'date-time': 'a date and time' };
    return `must be ${formats[p.format] ?? `in ${p.format} format`}`;
  }
  if (typeof p.pattern === 'string') {
    if (p.pattern === '\\S') return 'must not be blank';
    // The e-mail fields are checked by pattern (Ajv's "email" format refuses addresses people use).
    return /email$/i.test(path) ? 'must be an email address' : 'is not in the expected form';
  }
  const type = at(/^must be (string|number|integer|boolean|object|array|null)$/);
  if (type) {
    const names: Record<string, string> = {
      string: 'text',
      number: 'a number',
      integer: 'a whole number',
      boolean: 'true or false',
      object: 'an object',
      array: 'a list',
      null: 'null',
    };
    return `must be ${names[type]}`;
  }
  if (/anyOf|oneOf/.test(m)) return 'is not valid';
  return m;
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
      const issues = (error.validation as ValidationIssue[]).map((issue) => {
        const path = fieldPath(error.validationContext, issue);
        return { path, message: plain(issue, path) };
      });
      const first = issues[0];
      const message = first ? `${fieldLabel(first.path)} ${first.message}` : 'Invalid request';
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
