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

const MAX_SCAN_DEPTH = 64;

/** Path of the first string (key or value) holding a NUL character, or null. */
function findNul(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (typeof value !== 'object' || value === null || depth > MAX_SCAN_DEPTH) return null;
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const itemPath = `${path}.${key}`;
    if (key.includes('\u0000')) return itemPath;
    const found = findNul(item, itemPath, depth + 1);
    if (found) return found;
  }
  return null;
}

/**
 * Refuses NUL characters in text (PostgreSQL cannot store them, so SQLite must not either).
 * Metric batches are checked by their own parser, which is faster on 10^5 points.
 */
export function installNulGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const parts: [string, unknown][] = [
      ['query', request.query],
      ['params', request.params],
    ];
    if (!request.url.includes('/metrics/batch')) parts.push(['body', request.body]);
    for (const [name, value] of parts) {
      const path = findNul(value, name);
      if (path) throw badRequest(`${path} must not contain NUL characters`, [{ path, message: 'contains a NUL character' }]);
    }
  });
}
