import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance, FastifySchema, FastifySchemaCompiler } from 'fastify';
import { badRequest } from '../errors.js';

// ajv-formats ships CommonJS; under NodeNext its function sits on `.default`.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ allErrors: false, strict: false, useDefaults: true, removeAdditional: false, ...options });
  addFormats(ajv);
  ajv.addKeyword({ keyword: 'x-tora-manual-validation' });
  return ajv;
}

/**
 * Bodies are validated strictly (a string is never coerced into a number, unknown fields are
 * refused); query strings, params and headers arrive as text and are coerced.
 */
export function validatorCompiler(): FastifySchemaCompiler<FastifySchema> {
  const strict = makeAjv({ coerceTypes: false });
  const coercing = makeAjv({ coerceTypes: 'array' });
  return ({ schema, httpPart }) => {
    if ((schema as Record<string, unknown>)['x-tora-manual-validation'] === true) return () => true;
    return (httpPart === 'body' ? strict : coercing).compile(schema as object);
  };
}

/**
 * Text no database can keep as sent: NUL (PostgreSQL refuses it, so SQLite must not take it either)
 * and lone UTF-16 surrogates (not representable in UTF-8: stored, they come back as U+FFFD or fail).
 */
const BAD_TEXT = /[\u0000\p{Cs}]/u;

/** Why a string may not be stored, or null when it may. */
export function badText(value: string): string | null {
  const found = BAD_TEXT.exec(value);
  if (!found) return null;
  return found[0] === '\u0000' ? 'contains a NUL character' : 'contains a lone UTF-16 surrogate';
}

/** Path and reason of the first string (key or value) that may not be stored, or null. */
export function findBadText(root: unknown, rootPath: string): { path: string; message: string } | null {
  // Iterative: a body nested 10^5 levels deep must not overflow the stack before the schema refuses it.
  const stack: [unknown, string][] = [[root, rootPath]];
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      const message = badText(value);
      if (message) return { path, message };
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        const itemPath = `${path}.${key}`;
        const message = badText(key);
        if (message) return { path: itemPath, message };
        stack.push([item, itemPath]);
      }
    }
  }
  return null;
}

/** Throws the 400 for a string that may not be stored. */
export function refuseBadText(value: string, path: string): void {
  const message = badText(value);
  if (message) throw badRequest(`${path} ${message}`, [{ path, message }]);
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The handler's own parser checks the body's text (metrics batches: faster on 10^5 points). */
    bodyTextChecked?: boolean;
  }
}

/**
 * Refuses NUL characters and lone surrogates in every query, path parameter and body, on every
 * route; a route that checks its body itself says so with `config.bodyTextChecked`.
 */
export function installTextGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const parts: [string, unknown][] = [
      ['query', request.query],
      ['params', request.params],
    ];
    if (request.routeOptions.config.bodyTextChecked !== true) parts.push(['body', request.body]);
    for (const [name, value] of parts) {
      const found = findBadText(value, name);
      if (found) throw badRequest(`${found.path} ${found.message}`, [found]);
    }
  });
}
