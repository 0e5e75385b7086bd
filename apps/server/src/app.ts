import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import cookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifySchema,
} from 'fastify';
import type { Config } from './config.js';
import { createContext } from './create-context.js';
import type { Database } from './db/database.js';
import { installErrorHandler } from './errors.js';
import { trackRouteMethods } from './lib/allowed-methods.js';
import * as limits from './lib/limits.js';
import { ErrorResponse } from './lib/schemas.js';
import { installTextGuard, validatorCompiler } from './lib/validation.js';
import { analysisRoutes } from './modules/analysis/analysis.routes.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import { clientRoutes } from './modules/client/client.routes.js';
import { compareRoutes } from './modules/compare/compare.routes.js';
import { installCallerHook, installReadOnlyGuard } from './modules/auth/caller.hook.js';
import { experimentsRoutes } from './modules/experiments/experiments.routes.js';
import { healthRoutes } from './modules/health/health.routes.js';
import { keysRoutes } from './modules/keys/keys.routes.js';
import { filesRoutes } from './modules/files/files.routes.js';
import { metricsRoutes } from './modules/metrics/metrics.routes.js';
import { datasetsRoutes } from './modules/mlflow/mlflow.datasets.routes.js';
import { registryRoutes } from './modules/mlflow/mlflow.registry.tora.routes.js';
import { kvTagsRoutes } from './modules/mlflow/mlflow.kv-tags.routes.js';
import { invitesRoutes } from './modules/invites/invites.routes.js';
import { runModelsRoutes } from './modules/mlflow/mlflow.run-models.routes.js';
import { isMlflowUrl } from './modules/mlflow/mlflow.errors.js';
import { MlflowErrorResponse, optionalMlflowBodies } from './modules/mlflow/mlflow.openapi.js';
import { scheduleHousekeeping } from './modules/housekeeping/housekeeping.js';
import { mlflowRoutes } from './modules/mlflow/mlflow.routes.js';
import { installHostCheck } from './modules/security/allowed-hosts.js';
import { installSecurityHeaders } from './modules/security/headers.js';
import { fastifyTrustProxy } from './modules/security/proxy.js';
import { workspacesRoutes } from './modules/workspaces/workspaces.routes.js';
import { VERSION } from './version.js';

export interface AppDeps {
  database: Database;
  clock?: () => number;
  newId?: () => string;
  /** Logger settings; tests pass false. */
  logger?: boolean | object;
}

const REDACT = ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie', 'res.headers["set-cookie"]'];

/** Fastify's own errors before routing: a malformed percent-encoding is the caller's 400. */
function badUrl(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (error.code !== 'FST_ERR_BAD_URL' && error.code !== 'FST_ERR_MAX_PARAM_LENGTH') {
    request.log.error({ err: error }, 'unhandled error');
    void reply.status(500).send({ error: { code: 'INTERNAL_ERROR', message: 'Internal server error' } });
    return;
  }
  // A path parameter past the router's 1,000 characters is past every schema's limit too: the same
  // 400 a shorter one over its limit gets, not the router's 414 (no route documents one).
  const message =
    error.code === 'FST_ERR_BAD_URL'
      ? 'The URL is not valid: malformed percent-encoding'
      : 'The URL is not valid: a path parameter is longer than 1,000 characters';
  void reply
    .status(400)
    .send(
      isMlflowUrl(request.url)
        ? { error_code: 'INVALID_PARAMETER_VALUE', message }
        : { error: { code: 'VALIDATION_ERROR', message } },
    );
}

/**
 * Builds a ready Fastify app (API under /api, web app at /) without listening.
 *
 * @example
 *   const app = await buildApp(loadConfig(), { database: openDatabase(config) });
 *   const res = await app.inject({ method: 'GET', url: '/api/health' });
 */
/**
 * Publishes a route's trailing wildcard (`/experiments/:id/files/*`, the file's path, slashes and
 * all) as a named parameter (its schema's `title`, else `path`) rather than `{*}`, which generated
 * clients cannot name.
 */
function namedWildcard({ schema, url }: { schema: FastifySchema; url: string }): { schema: FastifySchema; url: string } {
  const params = schema?.params as { properties?: Record<string, unknown>; required?: string[] } | undefined;
  if (!url.endsWith('/*') || params?.properties?.['*'] === undefined) return { schema, url };
  const { '*': wildcard, ...rest } = params.properties;
  const name = (wildcard as { title?: string }).title ?? 'path';
  const renamed = {
    ...params,
    properties: { ...rest, [name]: wildcard },
    required: (params.required ?? []).map((r) => (r === '*' ? name : r)),
  };
  return { schema: { ...schema, params: renamed }, url: `${url.slice(0, -1)}:${name}` };
}

export async function buildApp(config: Config, deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? { level: config.logLevel, redact: REDACT },
    genReqId: () => randomUUID(),
    bodyLimit: 1024 * 1024,
    // Request line + headers: 256 KiB (Node's default is 16), so every query string the schemas allow
    // (50 compare metric names of 256 characters, a 2,000-character filter) fits even when each
    // character is percent-encoded to 12 bytes; past it Node answers 431.
    http: { maxHeaderSize: 256 * 1024 },
    // Path parameters past the schemas' limits reach them (a 400 naming the field), not the router's 414.
    routerOptions: { maxParamLength: 1000 },
    trustProxy: fastifyTrustProxy(config.trustProxy),
    ajv: { customOptions: { removeAdditional: false } },
    // A URL the router cannot decode (`%ZZ`) gets the error shape of the API it names, not Fastify's own.
    frameworkErrors: badUrl,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler());
  // JSON only: a text/plain body is refused with 415 like any other non-JSON type.
  app.removeContentTypeParser('text/plain');
  installTextGuard(app);

  const ctx = createContext(config, deps.database, {
    clock: deps.clock,
    newId: deps.newId,
    onKeyUsageError: (err) => app.log.error({ err }, 'could not record API key use'),
    onThumbnailError: (err) => app.log.warn({ err }, 'could not make a thumbnail'),
  });
  ctx.keyUsage.start();
  deps.database.onConnectionLost((err) => app.log.warn({ err }, 'lost a database connection; the pool reconnects'));
  // A request whose client has gone away stops its database work (PostgreSQL: the statement is cancelled).
  // preValidation: after the body is read, so the handler runs inside the cancellable scope.
  app.addHook('preValidation', (request, reply, done) => {
    const gone = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });
    deps.database.cancellable(gone.signal, done);
  });
  app.addHook('onClose', async () => {
    await ctx.thumbnails.close();
    await ctx.keyUsage.stop();
    ctx.blobs.close();
  });
  scheduleHousekeeping(app, ctx);

  const allowedMethods = trackRouteMethods(app);
  /** A request no route takes: 405 with Allow when the path exists under other methods, else 404. */
  const unrouted = (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = path.startsWith('/api/') ? allowedMethods(path) : [];
    if (allowed.length > 0) {
      return reply
        .status(405)
        .header('allow', allowed.join(', '))
        .send({
          error: {
            code: 'METHOD_NOT_ALLOWED',
            message: `${request.method} is not allowed on ${path}; use ${allowed.join(', ')}`,
          },
        });
    }
    return reply.status(404).send({ error: { code: 'NOT_FOUND', message: `No route ${request.method} ${path}` } });
  };
  installErrorHandler(app, unrouted);
  app.addSchema(ErrorResponse);
  app.addSchema(MlflowErrorResponse);
  await app.register(cookie);
  // Every limit of src/lib/limits.ts in the document, also those no single schema states (the web
  // app's generated limits module reads them there); an `x-` extension, which clients ignore.
  // Sorted: a module namespace's key order differs between Node and vitest's transform.
  const publishedLimits = { 'x-tora-limits': Object.fromEntries(Object.entries(limits).sort(([a], [b]) => a.localeCompare(b))) };
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Tora API',
        version: VERSION,
        description: 'Self-hosted ML experiment tracking. Authenticate with `x-api-key: tora_…` or a session cookie.',
        ...publishedLimits,
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: 'tora_session' },
        },
      },
      security: [{ apiKey: [] }, { bearer: [] }, { session: [] }],
    },
    transform: namedWildcard,
    transformObject: (doc) => ('openapiObject' in doc ? optionalMlflowBodies(doc.openapiObject) : doc.swaggerObject),
  });
  // First: a request for a host we do not serve (DNS rebinding) must not reach auth or the web app.
  installHostCheck(app, config);
  installCallerHook(app, ctx);
  installReadOnlyGuard(app);
  const webDir = config.webDir && fs.existsSync(config.webDir) ? config.webDir : null;
  installSecurityHeaders(app, webDir);
  // Lets clients and benchmarks see server time apart from transfer time.
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(2)}`);
    return payload;
  });

  await app.register(
    async (api) => {
      await api.register(healthRoutes(ctx));
      await api.register(clientRoutes(ctx));
      await api.register(authRoutes(ctx));
      await api.register(keysRoutes(ctx));
      await api.register(workspacesRoutes(ctx));
      await api.register(experimentsRoutes(ctx));
      await api.register(metricsRoutes(ctx));
      await api.register(filesRoutes(ctx));
      await api.register(compareRoutes(ctx));
      await api.register(analysisRoutes(ctx));
      await api.register(datasetsRoutes(ctx));
      await api.register(registryRoutes(ctx));
      await api.register(kvTagsRoutes(ctx));
      await api.register(invitesRoutes(ctx));
      await api.register(runModelsRoutes(ctx));
      api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    },
    { prefix: '/api' },
  );
  // MLflow's tracking API, under its own paths (/api/2.0/mlflow, /ajax-api/2.0/mlflow) and error shape.
  await app.register(mlflowRoutes(ctx));

  if (webDir) {
    await app.register(fastifyStatic, { root: webDir, prefix: '/', wildcard: false, index: ['index.html'] });
  }
  // A single-page app: unknown non-API GETs get the app shell, which routes on the client.
  const shell = webDir && fs.existsSync(`${webDir}/200.html`) ? '200.html' : 'index.html';
  app.setNotFoundHandler((request, reply) => {
    if (webDir && request.method === 'GET' && !request.url.startsWith('/api/')) {
      return reply.type('text/html').sendFile(shell);
    }
    return unrouted(request, reply);
  });
  return app;
}
