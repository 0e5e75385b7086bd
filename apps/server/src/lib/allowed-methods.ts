import type { FastifyInstance, HTTPMethods } from 'fastify';

interface RoutePattern {
  regex: RegExp;
  /** Routes without parameters win over parameterised ones, as in the router. */
  isStatic: boolean;
  methods: Set<string>;
}

/**
 * Records every route's path pattern and methods, so a request for a known path with a method it
 * does not have is answered 405 with an `Allow` header instead of 404. Register before the routes.
 * HEAD (added by Fastify for each GET) is left out of `Allow`, as it is of the OpenAPI document.
 */
export function trackRouteMethods(app: FastifyInstance): (path: string) => string[] {
  const patterns = new Map<string, RoutePattern>();
  app.addHook('onRoute', (route) => {
    // Routes left out of the OpenAPI document (the document itself, refuseMethods' stand-ins) are not offered.
    if (route.schema?.hide === true) return;
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');
    if (methods.length === 0 || route.url.includes('*')) return;
    let pattern = patterns.get(route.url);
    if (!pattern) {
      const source = route.url
        .split('/')
        .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      pattern = { regex: new RegExp(`^${source}/?$`), isStatic: !route.url.includes(':'), methods: new Set() };
      patterns.set(route.url, pattern);
    }
    for (const m of methods) pattern.methods.add(m);
  });
  return (path) => {
    const matches = [...patterns.values()].filter((p) => p.regex.test(path));
    const statics = matches.filter((p) => p.isStatic);
    const chosen = statics.length > 0 ? statics : matches;
    return [...new Set(chosen.flatMap((p) => [...p.methods]))].sort();
  };
}

/**
 * Answers 405 (with `Allow`) for methods a static path does not have but a parameterised sibling
 * would otherwise take: PUT /experiments/compare must not reach PUT /experiments/:id as id "compare".
 */
export function refuseMethods(app: FastifyInstance, url: string, methods: HTTPMethods[], allow: readonly string[]): void {
  app.route({
    method: methods,
    url,
    schema: { hide: true },
    handler: async (request, reply) =>
      reply
        .status(405)
        .header('allow', allow.join(', '))
        .send({
          error: {
            code: 'METHOD_NOT_ALLOWED',
            message: `${request.method} is not allowed on ${request.url.split('?')[0] ?? ''}; use ${allow.join(', ')}`,
          },
        }),
  });
}
