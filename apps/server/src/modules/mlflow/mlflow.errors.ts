import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { databaseUnavailable } from '../../db/errors.js';
import { AppError } from '../../errors.js';

/**
 * MLflow clients read errors as `{"error_code", "message"}` and act on the code and status (a 404
 * RESOURCE_DOES_NOT_EXIST from get-by-name is what makes `set_experiment` create one; 429 and 5xx
 * are retried). So the MLflow routes answer in MLflow's shape, mapped from Tora's one catalogue:
 * that is the only place Tora's `{error: {code, message}}` shape is not used.
 */
export type MlflowErrorCode =
  | 'INVALID_PARAMETER_VALUE'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'RESOURCE_ALREADY_EXISTS'
  | 'INVALID_STATE'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'ENDPOINT_NOT_FOUND'
  | 'NOT_IMPLEMENTED'
  | 'REQUEST_LIMIT_EXCEEDED'
  | 'RESOURCE_LIMIT_EXCEEDED'
  | 'TEMPORARILY_UNAVAILABLE'
  | 'INTERNAL_ERROR';

export class MlflowError extends Error {
  constructor(
    readonly errorCode: MlflowErrorCode,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const invalidParameter = (message: string): MlflowError => new MlflowError('INVALID_PARAMETER_VALUE', 400, message);

/** A number as the request's JSON wrote it (`9.0`), which its parsed value (`9`) no longer says. */
export class JsonLiteral {
  constructor(readonly text: string) {}
}

/** A parameter of the wrong type or out of range, in MLflow's words: `Invalid value <v> for parameter '<name>' supplied: <rule>`. */
export const invalidValue = (value: unknown, name: string, rule: string): MlflowError =>
  invalidParameter(
    `Invalid value ${value instanceof JsonLiteral ? value.text : JSON.stringify(value)} for parameter '${name}' supplied: ${rule}`,
  );
export const doesNotExist = (message: string): MlflowError => new MlflowError('RESOURCE_DOES_NOT_EXIST', 404, message);

/** Tora's error, in MLflow's vocabulary: status kept (except 409 and 413, which MLflow reports as 400). */
function fromAppError(error: AppError): { status: number; body: { error_code: MlflowErrorCode; message: string } } {
  const byStatus: Record<number, MlflowErrorCode> = {
    400: 'INVALID_PARAMETER_VALUE',
    401: 'UNAUTHENTICATED',
    403: 'PERMISSION_DENIED',
    404: 'RESOURCE_DOES_NOT_EXIST',
    409: 'INVALID_PARAMETER_VALUE',
    413: 'INVALID_PARAMETER_VALUE',
    429: 'REQUEST_LIMIT_EXCEEDED',
    503: 'TEMPORARILY_UNAVAILABLE',
  };
  const code = byStatus[error.status] ?? 'INTERNAL_ERROR';
  const status = error.status === 409 || error.status === 413 ? 400 : error.status;
  return { status, body: { error_code: code, message: error.message } };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A stand-in route that refuses its methods: 405 with these in `Allow`. */
    mlflowAllow?: readonly string[];
  }
}

function methodNotAllowed(request: FastifyRequest, reply: FastifyReply, allow: readonly string[]): FastifyReply {
  const path = request.url.split('?')[0] ?? '';
  return reply
    .status(405)
    .header('allow', allow.join(', '))
    .send({ error_code: 'ENDPOINT_NOT_FOUND', message: `${request.method} is not allowed on ${path}; use ${allow.join(', ')}` });
}

const METHODS = ['DELETE', 'GET', 'PATCH', 'POST', 'PUT'] as const;

/**
 * A request no MLflow route takes: 405 with `Allow` when the path is an endpoint under other
 * methods, else MLflow's 404 ENDPOINT_NOT_FOUND.
 */
export function mlflowUnrouted(app: FastifyInstance) {
  return (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const path = request.url.split('?')[0] ?? '';
    const allow = METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);
    if (allow.length > 0) return methodNotAllowed(request, reply, allow);
    return reply.status(404).send({
      error_code: 'ENDPOINT_NOT_FOUND',
      message: `No MLflow endpoint ${request.method} ${path} on this server`,
    });
  };
}

/** Routes `url` of every method but `allow` (and HEAD) to a 405 naming `allow`. */
export function refuseOtherMethods(app: FastifyInstance, url: string, allow: readonly string[]): void {
  app.route({
    method: app.supportedMethods.filter((m) => m !== 'HEAD' && !allow.includes(m)),
    url,
    schema: { hide: true },
    config: { mlflowAllow: allow },
    handler: async (request, reply) => methodNotAllowed(request, reply, allow),
  });
}

/**
 * Installs MLflow's error shape on an encapsulated plugin (the MLflow routes only). `unrouted`
 * answers requests no route took whose body failed to parse first (QUERY without a Content-Type).
 */
export function installMlflowErrorHandler(
  app: FastifyInstance,
  unrouted?: (request: FastifyRequest, reply: FastifyReply) => FastifyReply,
): void {
  app.setErrorHandler((thrown: FastifyError | AppError | MlflowError, request, reply) => {
    const allow = request.routeOptions.config.mlflowAllow;
    if (allow !== undefined) return methodNotAllowed(request, reply, allow);
    if (request.is404 && unrouted !== undefined && !(thrown instanceof MlflowError || thrown instanceof AppError)) {
      return unrouted(request, reply);
    }
    const unavailable = databaseUnavailable(thrown);
    if (unavailable) request.log.warn({ err: thrown }, unavailable.message);
    const error = unavailable ?? thrown;
    if (error instanceof MlflowError) {
      return reply.status(error.status).send({ error_code: error.errorCode, message: error.message });
    }
    if (error instanceof AppError) {
      const mapped = fromAppError(error);
      return reply.status(mapped.status).send(mapped.body);
    }
    const status = error.statusCode ?? 500;
    if (error.validation) {
      const first = error.validation[0];
      const where = `${error.validationContext ?? 'body'}${first?.instancePath?.replace(/\//g, '.') ?? ''}`;
      return reply
        .status(400)
        .send({ error_code: 'INVALID_PARAMETER_VALUE', message: `${where} ${first?.message ?? 'is invalid'}` });
    }
    if (status >= 400 && status < 500) {
      const message =
        error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError
          ? 'Request body is not valid JSON'
          : error.message;
      return reply
        .status(status === 413 || status === 415 ? status : 400)
        .send({ error_code: 'INVALID_PARAMETER_VALUE', message });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ error_code: 'INTERNAL_ERROR', message: 'Internal server error' });
  });
}

/** Whether a URL is one of the MLflow routes (which answer in MLflow's error shape). */
export function isMlflowUrl(url: string): boolean {
  return /^\/(api|ajax-api)\/2\.0\/mlflow(-artifacts)?(\/|\?|$)/.test(url);
}
