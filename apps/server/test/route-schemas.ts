import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/**
 * Checks an answer against the response schema its route declares, as the app's own OpenAPI
 * document (generated from the route schemas) states it: so a test reads a response through the
 * route's contract, not through a shape it wrote down itself.
 */

type OpenApi = {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
  components: object;
};

// ajv-formats ships CommonJS; under NodeNext its function sits on `.default` (as in src/lib/validation.ts).
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);
const validators = new WeakMap<FastifyInstance, Map<string, ValidateFunction>>();

function validator(app: FastifyInstance, method: string, path: string, status: number): ValidateFunction {
  let byRoute = validators.get(app);
  if (!byRoute) validators.set(app, (byRoute = new Map()));
  const key = `${method} ${path} ${status}`;
  const known = byRoute.get(key);
  if (known) return known;
  const doc = app.swagger() as unknown as OpenApi;
  const operation = doc.paths[path]?.[method.toLowerCase()];
  if (!operation) throw new Error(`the OpenAPI document has no ${method} ${path}`);
  const schema = operation.responses[String(status)]?.content?.['application/json']?.schema;
  if (!schema) throw new Error(`${method} ${path} declares no JSON ${status} response`);
  // `$ref`s point into the document's components; OpenAPI 3.0's `nullable` is Ajv's own keyword.
  const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
  const validate = ajv.compile({ ...schema, components: doc.components });
  byRoute.set(key, validate);
  return validate;
}

/**
 * The JSON body of `res` after checking it against what route `METHOD /path/{param}` declares for
 * its status code; throws naming every mismatch.
 *
 * @example
 *   const page = declaredBody<ExperimentPage>(server.app, res, 'GET /api/experiments');
 */
export function declaredBody<T = unknown>(app: FastifyInstance, res: LightMyRequestResponse, route: string): T {
  const [method, path] = route.split(' ') as [string, string];
  const validate = validator(app, method, path, res.statusCode);
  const body: unknown = res.json();
  if (!validate(body)) {
    const ajv = new Ajv();
    throw new Error(
      `${route} answered ${res.statusCode} outside its schema: ${ajv.errorsText(validate.errors)}\n${res.body.slice(0, 500)}`,
    );
  }
  return body as T;
}
