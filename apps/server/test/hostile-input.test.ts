import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DIALECTS,
  call,
  createExperiment,
  errorCode,
  signUp,
  startTestServer,
  type TestServer,
  type TestUser,
} from './harness.js';

/**
 * Malformed and hostile requests: each gets a 4xx in the one error shape (never a 500, never a
 * stack trace), and the database is exactly as it was before the request.
 */

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface Fixture {
  ws: string;
  /** An experiment with a `loss` series of 3 points (steps 0..2) and one committed batchId. */
  exp: string;
  /** A second experiment of the workspace (a valid reference target). */
  other: string;
}

interface Case {
  name: string;
  method: Method;
  url: (f: Fixture) => string;
  /** A JSON body (serialized by inject), or a raw string body sent as-is. */
  json?: (f: Fixture) => unknown;
  raw?: () => string;
  contentType?: string;
  headers?: Record<string, string>;
  /** Acceptable statuses (all 4xx). */
  status: number | readonly number[];
  code?: string | readonly string[];
  /** A field path that must appear in error.details. */
  path?: string;
  /** Text the error message must contain (e.g. the published limit). */
  message?: string;
}

const deep = (levels: number, open: string, close: string, inner = ''): string =>
  open.repeat(levels) + inner + close.repeat(levels);
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const MiB = 1024 * 1024;

const UNKNOWN = '00000000-0000-4000-8000-000000000000';
/** 50 well-formed ids no experiment has. */
const MANY_IDS = Array.from({ length: 50 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

const CASES: Case[] = [
  // ---- bad JSON and content types -------------------------------------------------------------
  {
    name: 'truncated JSON',
    method: 'POST',
    url: () => '/api/experiments',
    raw: () => '{"name":',
    status: 400,
    code: 'INVALID_JSON',
  },
  {
    name: 'NaN literal in hyperparams (invalid JSON)',
    method: 'POST',
    url: () => '/api/experiments',
    raw: () => '{"name":"x","hyperparams":{"a":NaN}}',
    status: 400,
    code: 'INVALID_JSON',
  },
  {
    name: 'Infinity literal (invalid JSON)',
    method: 'POST',
    url: () => '/api/experiments',
    raw: () => '{"name":"x","hyperparams":{"a":Infinity}}',
    status: 400,
    code: 'INVALID_JSON',
  },
  {
    name: 'single-quoted JSON',
    method: 'POST',
    url: () => '/api/experiments',
    raw: () => "{'name':'x'}",
    status: 400,
    code: 'INVALID_JSON',
  },
  {
    name: 'trailing comma',
    method: 'POST',
    url: () => '/api/experiments',
    raw: () => '{"name":"x",}',
    status: 400,
    code: 'INVALID_JSON',
  },
  { name: 'empty JSON body', method: 'POST', url: () => '/api/experiments', raw: () => '', status: 400 },
  {
    name: 'JSON null body',
    method: 'POST',
    url: () => '/api/experiments',
    raw: () => 'null',
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: 'JSON array body',
    method: 'POST',
    url: () => '/api/experiments',
    raw: () => '[{"name":"x"}]',
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: 'JSON string body',
    method: 'POST',
    url: () => '/api/experiments',
    raw: () => '"x"',
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: '__proto__ pollution attempt',
    method: 'POST',
    url: () => '/api/experiments',
    raw: () => '{"name":"x","__proto__":{"isAdmin":true}}',
    status: 400,
  },
  {
    name: 'constructor.prototype pollution attempt',
    method: 'POST',
    url: () => '/api/experiments',
    raw: () => '{"name":"x","constructor":{"prototype":{"isAdmin":true}}}',
    status: 400,
  },
  {
    name: 'text/plain body',
    method: 'POST',
    url: () => '/api/experiments',
    raw: () => '{"name":"x"}',
    contentType: 'text/plain',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'form-encoded body',
    method: 'POST',
    url: () => '/api/experiments',
    raw: () => 'name=x',
    contentType: 'application/x-www-form-urlencoded',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'multipart body',
    method: 'POST',
    url: () => '/api/workspaces',
    raw: () => '--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b--\r\n',
    contentType: 'multipart/form-data; boundary=b',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'XML body',
    method: 'PUT',
    url: (f) => `/api/experiments/${f.exp}`,
    raw: () => '<experiment><name>x</name></experiment>',
    contentType: 'application/xml',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'text/plain metrics batch',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    raw: () => '[{"name":"loss","value":1}]',
    contentType: 'text/plain',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },

  // ---- wrong types, missing and unknown fields --------------------------------------------------
  {
    name: 'missing name',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({}),
    status: 400,
    code: 'VALIDATION_ERROR',
    path: 'body.name',
  },
  {
    name: 'name is a number',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 123 }),
    status: 400,
    path: 'body.name',
  },
  {
    name: 'name is an object',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: { $ne: null } }),
    status: 400,
    path: 'body.name',
  },
  {
    name: 'empty name',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: '' }),
    status: 400,
    path: 'body.name',
  },
  {
    name: 'blank name',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: ' \t ' }),
    status: 400,
    path: 'body.name',
  },
  {
    name: 'name over 200 characters',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'n'.repeat(201) }),
    status: 400,
    path: 'body.name',
  },
  {
    name: 'unknown field',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x', owner: 'root' }),
    status: 400,
    code: 'VALIDATION_ERROR',
    path: 'body.owner',
  },
  {
    name: 'tags as a string',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x', tags: 'a,b' }),
    status: 400,
  },
  {
    name: 'tags of numbers',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x', tags: [1, 2] }),
    status: 400,
  },
  {
    name: 'tag with a comma',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x', tags: ['a,b'] }),
    status: 400,
  },
  {
    name: '101 tags',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x', tags: Array.from({ length: 101 }, (_, i) => `t${i}`) }),
    status: 400,
  },
  {
    name: 'hyperparams is a number',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x', hyperparams: 42 }),
    status: 400,
  },
  {
    name: 'hyperparams is a broken JSON string',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x', hyperparams: '{"lr":' }),
    status: 400,
    path: 'body.hyperparams',
  },
  {
    name: 'hyperparams JSON string with NaN',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x', hyperparams: '{"lr":NaN}' }),
    status: 400,
    path: 'body.hyperparams',
  },
  {
    name: 'hyperparams JSON string with an overflowing number (Infinity)',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x', hyperparams: '{"lr":1e999}' }),
    status: 400,
  },
  {
    name: 'hyperparams nested deeper than 16 levels',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x', hyperparams: { lr: JSON.parse('{"a":'.repeat(17) + '1' + '}'.repeat(17)) as unknown } }),
    status: 400,
  },
  {
    name: 'hyperparams flattened key longer than 256 characters',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x', hyperparams: { ['a'.repeat(200)]: { ['b'.repeat(60)]: 1 } } }),
    status: 400,
  },
  {
    name: 'hyperparams list item without key',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x', hyperparams: [{ value: 1 }] }),
    status: 400,
  },
  {
    name: 'hyperparams list item with empty key',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x', hyperparams: [{ key: '', value: 1 }] }),
    status: 400,
  },
  {
    name: 'status not a status',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x', status: 'exploded' }),
    status: 400,
  },
  {
    name: 'visibility not a visibility',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x', visibility: 'SECRET' }),
    status: 400,
  },
  {
    name: 'description over 10,000 characters',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x', description: 'd'.repeat(10_001) }),
    status: 400,
  },
  {
    name: 'workspaceId not a UUID',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x', workspaceId: "1' OR '1'='1" }),
    status: 400,
  },
  {
    name: 'unknown workspaceId',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x', workspaceId: UNKNOWN }),
    status: 404,
    code: 'WORKSPACE_NOT_FOUND',
  },
  {
    name: 'unknown referenceId',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x', referenceId: UNKNOWN }),
    status: 404,
    code: ['EXPERIMENT_NOT_FOUND', 'REFERENCE_NOT_FOUND'],
  },
  {
    name: '10 MB name',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x'.repeat(10 * MiB) }),
    status: [413, 400],
  },
  {
    name: 'body over 1 MiB (in an ignored-looking field)',
    method: 'PUT',
    url: (f) => `/api/experiments/${f.exp}`,
    json: () => ({ description: 'd'.repeat(MiB + 10) }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'JSON nested 10,000 levels in hyperparams',
    method: 'POST',
    url: () => '/api/experiments',
    raw: () => `{"name":"deep","hyperparams":{"a":${deep(10_000, '[', ']')}}}`,
    status: 400,
  },
  {
    name: 'JSON nested 10,000 levels in a hyperparams JSON string',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'deep', hyperparams: `{"a":${deep(10_000, '{"a":', '}', '1')}}` }),
    status: 400,
  },
  {
    name: 'body nested 100,000 levels',
    method: 'POST',
    url: () => '/api/experiments',
    raw: () => deep(100_000, '[', ']'),
    status: 400,
  },

  // ---- experiment updates ---------------------------------------------------------------------
  {
    name: 'PUT name is a number',
    method: 'PUT',
    url: (f) => `/api/experiments/${f.exp}`,
    json: () => ({ name: 5 }),
    status: 400,
    path: 'body.name',
  },
  { name: 'PUT tags null', method: 'PUT', url: (f) => `/api/experiments/${f.exp}`, json: () => ({ tags: null }), status: 400 },
  {
    name: 'PUT unknown field (workspace move)',
    method: 'PUT',
    url: (f) => `/api/experiments/${f.exp}`,
    json: (f) => ({ name: 'moved', workspaceId: f.ws }),
    status: 400,
    path: 'body.workspaceId',
  },
  {
    name: 'POST update with NaN literal',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}`,
    raw: () => '{"hyperparams":{"lr":NaN}}',
    status: 400,
    code: 'INVALID_JSON',
  },
  {
    name: 'PUT valid field plus bad hyperparams (no partial update)',
    method: 'PUT',
    url: (f) => `/api/experiments/${f.exp}`,
    json: () => ({ name: 'half-applied', hyperparams: { lr: { ['k'.repeat(300)]: 1 } } }),
    status: 400,
  },

  // ---- ids in paths -----------------------------------------------------------------------------
  {
    name: 'GET bad UUID',
    method: 'GET',
    url: () => '/api/experiments/not-a-uuid',
    status: 400,
    code: 'VALIDATION_ERROR',
    path: 'params.id',
  },
  {
    name: 'DELETE SQL in the id',
    method: 'DELETE',
    url: () => `/api/experiments/${encodeURIComponent("1' OR '1'='1'; DROP TABLE experiments;--")}`,
    status: 400,
    path: 'params.id',
  },
  { name: 'GET unknown id', method: 'GET', url: () => `/api/experiments/${UNKNOWN}`, status: 404, code: 'EXPERIMENT_NOT_FOUND' },
  {
    name: 'PUT unknown id',
    method: 'PUT',
    url: () => `/api/experiments/${UNKNOWN}`,
    json: () => ({ name: 'x' }),
    status: 404,
    code: 'EXPERIMENT_NOT_FOUND',
  },
  {
    name: 'DELETE unknown id',
    method: 'DELETE',
    url: () => `/api/experiments/${UNKNOWN}`,
    status: 404,
    code: 'EXPERIMENT_NOT_FOUND',
  },
  { name: 'DELETE bad workspace id', method: 'DELETE', url: () => '/api/workspaces/12345', status: 400, path: 'params.id' },
  {
    name: 'DELETE unknown workspace',
    method: 'DELETE',
    url: () => `/api/workspaces/${UNKNOWN}`,
    status: 404,
    code: 'WORKSPACE_NOT_FOUND',
  },
  {
    name: 'PUT member with bad user id',
    method: 'PUT',
    url: (f) => `/api/workspaces/${f.ws}/members/nobody`,
    json: () => ({ role: 'viewer' }),
    status: 400,
    path: 'params.userId',
  },
  { name: 'DELETE unknown key', method: 'DELETE', url: () => `/api/keys/${UNKNOWN}`, status: 404, code: 'KEY_NOT_FOUND' },
  { name: 'DELETE bad key id', method: 'DELETE', url: () => '/api/keys/..%2F..%2Fetc%2Fpasswd', status: 400 },
  { name: 'unknown route', method: 'GET', url: () => '/api/experimentz', status: 404, code: 'NOT_FOUND' },

  // ---- list query -------------------------------------------------------------------------------
  { name: 'garbage cursor', method: 'GET', url: () => '/api/experiments?cursor=%%%garbage', status: 400, path: 'query.cursor' },
  {
    name: 'forged negative cursor',
    method: 'GET',
    url: () => `/api/experiments?cursor=${b64({ o: -1 })}`,
    status: 400,
    path: 'query.cursor',
  },
  {
    name: 'cursor that is not an object',
    method: 'GET',
    url: () => `/api/experiments?cursor=${b64('x')}`,
    status: 400,
    path: 'query.cursor',
  },
  { name: 'invalid sort', method: 'GET', url: () => '/api/experiments?sort=bogus', status: 400, path: 'query.sort' },
  {
    name: 'SQL in sort',
    method: 'GET',
    url: () => `/api/experiments?sort=${encodeURIComponent('name; DROP TABLE experiments')}`,
    status: 400,
  },
  { name: 'invalid order', method: 'GET', url: () => '/api/experiments?order=sideways', status: 400 },
  { name: 'limit 0', method: 'GET', url: () => '/api/experiments?limit=0', status: 400, path: 'query.limit' },
  { name: 'limit 501', method: 'GET', url: () => '/api/experiments?limit=501', status: 400, path: 'query.limit' },
  { name: 'limit not a number', method: 'GET', url: () => '/api/experiments?limit=ten', status: 400, path: 'query.limit' },
  { name: 'fractional limit', method: 'GET', url: () => '/api/experiments?limit=1.5', status: 400 },
  { name: 'invalid status filter', method: 'GET', url: () => '/api/experiments?status=running,exploded', status: 400 },
  { name: 'workspace filter not a UUID', method: 'GET', url: () => '/api/experiments?workspace=default', status: 400 },
  {
    name: 'unknown workspace filter',
    method: 'GET',
    url: () => `/api/experiments?workspace=${UNKNOWN}`,
    status: 404,
    code: 'WORKSPACE_NOT_FOUND',
  },

  // ---- metrics batch ----------------------------------------------------------------------------
  {
    name: 'batch with a bad row in the middle',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => [
      { name: 'loss', value: 0.1, step: 10 },
      { name: 'acc', value: 0.9, step: 10 },
      { name: 'loss', value: 'abc', step: 11 },
      { name: 'loss', value: 0.3, step: 12 },
    ],
    status: 400,
    code: 'VALIDATION_ERROR',
    path: 'body.2.value',
  },
  {
    name: 'batch row with a step below -(2^53 - 1)',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => [
      { name: 'loss', value: 1, step: 5 },
      { name: 'loss', value: 1, step: -1e300 },
    ],
    status: 400,
    path: 'body.1.step',
  },
  {
    name: 'batch row with a fractional step',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => [{ name: 'loss', value: 1, step: 1.5 }],
    status: 400,
    path: 'body.0.step',
  },
  {
    name: 'batch row with a step beyond 2^53',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => [{ name: 'loss', value: 1, step: 1e300 }],
    status: 400,
  },
  {
    name: 'batch row with a string step',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => [{ name: 'loss', value: 1, step: '7' }],
    status: 400,
  },
  {
    name: 'batch metric name over 256 characters',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => [{ name: 'm'.repeat(257), value: 1 }],
    status: 400,
    message: '256',
  },
  {
    name: 'batch metric name empty',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => [{ name: '', value: 1 }],
    status: 400,
  },
  {
    name: 'batch metric name with a NUL byte',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => [{ name: 'lo\u0000ss', value: 1 }],
    status: 400,
  },
  {
    name: 'batch row missing value',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => [{ name: 'loss', step: 3 }],
    status: 400,
    path: 'body.0.value',
  },
  {
    name: 'batch value null',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => [{ name: 'loss', value: null }],
    status: 400,
  },
  {
    name: 'batch value a numeric string',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => [{ name: 'loss', value: '1.5' }],
    status: 400,
  },
  {
    name: 'batch NaN literal (invalid JSON)',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    raw: () => '[{"name":"loss","value":NaN}]',
    status: 400,
    code: 'INVALID_JSON',
  },
  {
    name: 'batch row with an unknown field',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => [{ name: 'loss', value: 1, experimentId: UNKNOWN }],
    status: 400,
    path: 'body.0.experimentId',
  },
  {
    name: 'batch metadata over 4096 bytes',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => [
      { name: 'loss', value: 1 },
      { name: 'loss', value: 1, metadata: { note: 'm'.repeat(5000) } },
    ],
    status: [413, 400],
    message: '4096',
  },
  {
    name: 'batch metadata nested 10,000 levels',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    raw: () => `[{"name":"loss","value":1,"metadata":${deep(10_000, '{"a":', '}', '1')}}]`,
    status: [413, 400],
  },
  {
    name: 'columnar metadata nested 10,000 levels',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    raw: () => `{"series":{"loss":{"values":[1],"metadata":[${deep(10_000, '{"a":', '}', '1')}]}}}`,
    status: [413, 400],
  },
  {
    name: 'batch metadata an array',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => [{ name: 'loss', value: 1, metadata: [1, 2] }],
    status: 400,
  },
  {
    name: 'batch row negative time',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => [{ name: 'loss', value: 1, time: -5 }],
    status: 400,
  },
  {
    name: 'batch body a number',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    raw: () => '42',
    status: 400,
  },
  {
    name: 'batch row not an object',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => [{ name: 'loss', value: 1 }, 'loss=2'],
    status: 400,
    path: 'body.1',
  },
  {
    name: 'columnar steps shorter than values',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({ series: { loss: { steps: [10, 11], values: [1, 2, 3] } } }),
    status: 400,
    path: 'body.series.loss.steps',
  },
  {
    name: 'binary column not base64',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({ series: { loss: { valuesF64: 'not base64!' } } }),
    status: 400,
    path: 'body.series.loss.valuesF64',
  },
  {
    name: 'binary column not a whole number of float64 values',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({ series: { loss: { valuesF64: Buffer.alloc(12).toString('base64') } } }),
    status: 400,
    path: 'body.series.loss.valuesF64',
  },
  {
    name: 'binary and JSON values together',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({ series: { loss: { values: [0], valuesF64: Buffer.alloc(8).toString('base64') } } }),
    status: 400,
    path: 'body.series.loss.valuesF64',
  },
  {
    name: 'binary steps with a fraction',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({
      series: {
        loss: { stepsF64: Buffer.from(new Float64Array([1.5]).buffer).toString('base64'), values: [1] },
      },
    }),
    status: 400,
    path: 'body.series.loss.stepsF64.0',
  },
  {
    name: 'binary steps shorter than values',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({
      series: { loss: { stepsF64: Buffer.from(new Float64Array([1]).buffer).toString('base64'), values: [1, 2] } },
    }),
    status: 400,
    path: 'body.series.loss.stepsF64',
  },
  {
    name: 'binary times negative',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({
      series: { loss: { timesF64: Buffer.from(new Float64Array([-5]).buffer).toString('base64'), values: [1] } },
    }),
    status: 400,
    path: 'body.series.loss.timesF64.0',
  },
  {
    name: 'columnar values not an array',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({ series: { loss: { values: 1 } } }),
    status: 400,
  },
  {
    name: 'columnar series an array',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({ series: [] }),
    status: 400,
  },
  {
    name: 'columnar unknown top-level field',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({ series: { loss: { values: [1] } }, experiment: 'x' }),
    status: 400,
    path: 'body.experiment',
  },
  {
    name: 'columnar second series bad after a good one',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({ series: { fresh: { values: [1, 2, 3] }, loss: { values: [1, 'Inf!'] } } }),
    status: 400,
    path: 'body.series.loss.values.1',
  },
  {
    name: 'batchId over 128 characters',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({ batchId: 'b'.repeat(129), series: { loss: { values: [1] } } }),
    status: 400,
  },
  {
    name: 'batchId a number',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({ batchId: 7, series: { loss: { values: [1] } } }),
    status: 400,
  },
  {
    name: 'Idempotency-Key header over 128 characters',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    headers: { 'idempotency-key': 'k'.repeat(129) },
    json: () => [{ name: 'loss', value: 1 }],
    status: 400,
  },
  {
    name: 'batchId already used, different content',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({ batchId: 'seed-batch', series: { loss: { values: [42, 43] }, other: { values: [1] } } }),
    status: [409, 422],
  },
  // A batch id names one content: the same points at other times or with other metadata are another batch.
  {
    name: 'batchId re-sent with the same points at other times',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({ batchId: 'seed-batch', series: { loss: { steps: [0, 1, 2], values: [1, 0.5, 0.25], times: [1, 2, 3] } } }),
    status: 409,
    code: 'BATCH_ID_CONFLICT',
  },
  {
    name: 'batchId re-sent with the same points and other metadata',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({
      batchId: 'seed-batch',
      series: { loss: { steps: [0, 1, 2], values: [1, 0.5, 0.25], metadata: [null, { epoch: 1 }, null] } },
    }),
    status: 409,
    code: 'BATCH_ID_CONFLICT',
  },
  {
    name: 'Idempotency-Key re-sent with the same rows at another time',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    headers: { 'idempotency-key': 'seed-batch' },
    json: () => [
      { name: 'loss', value: 1, step: 0 },
      { name: 'loss', value: 0.5, step: 1 },
      { name: 'loss', value: 0.25, step: 2, time: 1_700_000_000_000 },
    ],
    status: 409,
    code: 'BATCH_ID_CONFLICT',
  },

  // ---- times beyond what a Date holds (8.64e15 ms): every read of the series used to fail ----------
  {
    name: 'batch row time above 8.64e15 ms',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => [{ name: 'loss', value: 1, time: 8.64e15 + 1 }],
    status: 400,
    path: 'body.0.time',
    message: '8640000000000000',
  },
  {
    name: 'columnar time 1e300',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({ series: { loss: { values: [1, 2], times: [0, 1e300] } } }),
    status: 400,
    path: 'body.series.loss.times.1',
  },
  {
    name: 'binary time above 8.64e15 ms',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({
      series: { loss: { timesF64: Buffer.from(new Float64Array([9e15]).buffer).toString('base64'), values: [1] } },
    }),
    status: 400,
    path: 'body.series.loss.timesF64.0',
  },

  // ---- NUL and lone surrogates: PostgreSQL cannot store them, so no route takes them -------------
  {
    name: 'NUL in a body on a URL that mentions /metrics/batch',
    method: 'POST',
    url: () => '/api/experiments?via=/metrics/batch',
    json: () => ({ name: 'a\u0000b' }),
    status: 400,
    path: 'body.name',
  },
  {
    name: 'NUL in a hyperparam value sent as a JSON string',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x', hyperparams: '{"k":"a\\u0000b"}' }),
    status: 400,
    path: 'body.hyperparams.k',
  },
  {
    name: 'NUL in a hyperparam key sent as a JSON string list',
    method: 'PUT',
    url: (f) => `/api/experiments/${f.exp}`,
    json: () => ({ hyperparams: '[{"key":"a\\u0000b","value":1}]' }),
    status: 400,
    path: 'body.hyperparams.0.key',
  },
  {
    name: 'lone surrogate in a hyperparam sent as a JSON string',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'x', hyperparams: '{"k":"\\ud800"}' }),
    status: 400,
    path: 'body.hyperparams.k',
  },
  {
    name: 'NUL in a batchId',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({ batchId: 'b\u0000', series: { loss: { values: [1] } } }),
    status: 400,
    path: 'body.batchId',
  },
  {
    name: 'lone surrogate in a batchId',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({ batchId: 'b\udc00', series: { loss: { values: [1] } } }),
    status: 400,
    path: 'body.batchId',
  },
  {
    name: 'lone surrogate in a metric name (rows)',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => [{ name: 'loss\ud83d', value: 1 }],
    status: 400,
    path: 'body.0.name',
  },
  {
    name: 'lone surrogate in a metric name (columnar)',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({ series: { '\udfff': { values: [1] } } }),
    status: 400,
    path: 'body.series.\udfff',
  },
  {
    name: 'NUL in point metadata',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => [{ name: 'loss', value: 1, metadata: { note: 'a\u0000b' } }],
    status: 400,
    path: 'body.0.metadata.note',
  },
  {
    name: 'lone surrogate in a metadata key',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({ series: { loss: { values: [1], metadata: [{ '\ud800': 1 }] } } }),
    status: 400,
    path: 'body.series.loss.metadata.0.\ud800',
  },
  {
    name: 'lone surrogate in an experiment name',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'run \ud800' }),
    status: 400,
    path: 'body.name',
  },
  {
    name: 'lone surrogate in a tag',
    method: 'PUT',
    url: (f) => `/api/experiments/${f.exp}`,
    json: () => ({ tags: ['\udc00x'] }),
    status: 400,
    path: 'body.tags.0',
  },
  {
    name: 'lone surrogate in a workspace name',
    method: 'POST',
    url: () => '/api/workspaces',
    json: () => ({ name: 'ws \ud800' }),
    status: 400,
    path: 'body.name',
  },
  {
    name: 'lone surrogate in a key name',
    method: 'POST',
    url: () => '/api/keys',
    json: () => ({ name: '\ud800' }),
    status: 400,
    path: 'body.name',
  },
  {
    name: 'lone surrogate in a compare metric list',
    method: 'POST',
    url: () => '/api/experiments/compare',
    json: (f) => ({ ids: [f.exp], metrics: ['loss\ud800'] }),
    status: 400,
    path: 'body.metrics.0',
  },
  {
    name: '200,001 points (columnar)',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({ series: { loss: { values: new Array<number>(200_001).fill(0) } } }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: '200000',
  },
  {
    name: '200,001 points (rows)',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    raw: () => `[${new Array<string>(200_001).fill('{"name":"loss","value":0}').join(',')}]`,
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: '1,001 metrics in one batch',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    json: () => ({ series: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`m${i}`, { values: [1] }])) }),
    status: 413,
  },
  {
    name: 'batch body over 64 MiB',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
    raw: () => `{"series":{"loss":{"values":[1]}},"pad":"${'p'.repeat(64 * MiB + 16)}"}`,
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'batch to an unknown experiment',
    method: 'POST',
    url: () => `/api/experiments/${UNKNOWN}/metrics/batch`,
    json: () => [{ name: 'loss', value: 1 }],
    status: 404,
    code: 'EXPERIMENT_NOT_FOUND',
  },
  {
    name: 'batch to a bad experiment id',
    method: 'POST',
    url: () => '/api/experiments/0/metrics/batch',
    json: () => [{ name: 'loss', value: 1 }],
    status: 400,
    path: 'params.id',
  },

  // ---- metric reads -----------------------------------------------------------------------------
  {
    name: 'series without name',
    method: 'GET',
    url: (f) => `/api/experiments/${f.exp}/metrics/series`,
    status: 400,
    path: 'query.name',
  },
  {
    name: 'series budget 0',
    method: 'GET',
    url: (f) => `/api/experiments/${f.exp}/metrics/series?name=loss&budget=0`,
    status: 400,
    path: 'query.budget',
  },
  {
    name: 'series budget 20,001',
    method: 'GET',
    url: (f) => `/api/experiments/${f.exp}/metrics/series?name=loss&budget=20001`,
    status: 400,
  },
  {
    name: 'series from not a number',
    method: 'GET',
    url: (f) => `/api/experiments/${f.exp}/metrics/series?name=loss&from=abc`,
    status: 400,
  },
  {
    name: 'series of an unknown metric',
    method: 'GET',
    url: (f) => `/api/experiments/${f.exp}/metrics/series?name=nope`,
    status: 404,
    code: 'METRIC_NOT_FOUND',
  },
  {
    name: 'raw garbage cursor',
    method: 'GET',
    url: (f) => `/api/experiments/${f.exp}/metrics/raw?name=loss&cursor=!!`,
    status: 400,
    path: 'query.cursor',
  },
  { name: 'raw limit 0', method: 'GET', url: (f) => `/api/experiments/${f.exp}/metrics/raw?name=loss&limit=0`, status: 400 },
  // ---- points per response are capped (bounded server memory per request) ---------------------
  {
    name: 'raw limit above 20,000 points per response',
    method: 'GET',
    url: (f) => `/api/experiments/${f.exp}/metrics/raw?name=loss&limit=20001`,
    status: 400,
    path: 'query.limit',
  },
  {
    name: 'compare over 1,000,000 buckets (50 × 20 default metrics × 1,001)',
    method: 'GET',
    url: () => `/api/experiments/compare?ids=${MANY_IDS.join(',')}&budget=1001`,
    status: 400,
    path: 'budget',
    message: '1000000',
  },
  {
    name: 'compare body over 1,000,000 buckets (5 × 50 metrics × 5,000)',
    method: 'POST',
    url: () => '/api/experiments/compare',
    json: (f) => ({
      ids: [f.exp, f.other, ...MANY_IDS.slice(0, 3)],
      metrics: Array.from({ length: 50 }, (_, i) => `m${i}`),
      budget: 5000,
    }),
    status: 400,
    path: 'budget',
  },
  {
    name: 'csv of an unknown metric',
    method: 'GET',
    url: (f) => `/api/experiments/${f.exp}/metrics/csv?name=nope`,
    status: 404,
    code: 'METRIC_NOT_FOUND',
  },

  // ---- references -------------------------------------------------------------------------------
  {
    name: 'ref body missing',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/ref`,
    json: () => ({}),
    status: 400,
    path: 'body.referenceId',
  },
  {
    name: 'ref not a UUID',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/ref`,
    json: () => ({ referenceId: 'x' }),
    status: 400,
  },
  {
    name: 'ref to itself',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/ref`,
    json: (f) => ({ referenceId: f.exp }),
    status: 409,
    code: 'REFERENCE_CYCLE',
  },
  {
    name: 'ref cycle',
    method: 'POST',
    // `other` already names `exp` as its reference.
    url: (f) => `/api/experiments/${f.exp}/ref`,
    json: (f) => ({ referenceId: f.other }),
    status: 409,
    code: 'REFERENCE_CYCLE',
  },
  {
    name: 'ref to unknown',
    method: 'POST',
    url: (f) => `/api/experiments/${f.exp}/ref`,
    json: () => ({ referenceId: UNKNOWN }),
    status: 404,
  },
  {
    name: 'unset a ref that is not set',
    method: 'DELETE',
    url: (f) => `/api/experiments/${f.exp}/ref/${UNKNOWN}`,
    status: 404,
    code: 'REFERENCE_NOT_FOUND',
  },

  // ---- workspaces, members, keys, accounts ------------------------------------------------------
  {
    name: 'workspace without name',
    method: 'POST',
    url: () => '/api/workspaces',
    json: () => ({}),
    status: 400,
    path: 'body.name',
  },
  {
    name: 'workspace unknown field',
    method: 'POST',
    url: () => '/api/workspaces',
    json: () => ({ name: 'x', members: [] }),
    status: 400,
    path: 'body.members',
  },
  {
    name: 'workspace rename to blank',
    method: 'PUT',
    url: (f) => `/api/workspaces/${f.ws}`,
    json: () => ({ name: '   ' }),
    status: 400,
  },
  {
    name: 'add member with an unknown role',
    method: 'POST',
    url: (f) => `/api/workspaces/${f.ws}/members`,
    json: () => ({ email: 'someone@example.com', role: 'superuser' }),
    status: 400,
  },
  {
    name: 'add member who has no account',
    method: 'POST',
    url: (f) => `/api/workspaces/${f.ws}/members`,
    json: () => ({ email: 'nobody-here@example.com', role: 'viewer' }),
    status: 404,
    code: 'USER_NOT_FOUND',
  },
  { name: 'key without name', method: 'POST', url: () => '/api/keys', json: () => ({}), status: 400, path: 'body.name' },
  {
    name: 'key with an unknown scope',
    method: 'POST',
    url: () => '/api/keys',
    json: () => ({ name: 'k', scope: 'admin' }),
    status: 400,
    path: 'body.scope',
  },
  ...[0, -1, 3651, 1.5, '30'].map((expiresInDays): Case => ({
    name: `key expiring in ${JSON.stringify(expiresInDays)} days`,
    method: 'POST',
    url: () => '/api/keys',
    json: () => ({ name: 'k', expiresInDays }),
    status: 400,
    path: 'body.expiresInDays',
  })),
  {
    name: 'key name over 200 characters',
    method: 'POST',
    url: () => '/api/keys',
    json: () => ({ name: 'k'.repeat(201) }),
    status: 400,
  },
  {
    name: 'signup with a short password',
    method: 'POST',
    url: () => '/api/auth/signup',
    json: () => ({ email: 'short@example.com', password: 'short' }),
    status: 400,
    path: 'body.password',
  },
  ...['12345678', 'password', 'Password1', '        ', 'qwertyuiop', 'aaaaaaaaaa'].map((password): Case => ({
    name: `signup with the common password ${JSON.stringify(password)}`,
    method: 'POST',
    url: () => '/api/auth/signup',
    json: () => ({ email: 'common@example.com', password }),
    status: 400,
    code: 'VALIDATION_ERROR',
    path: 'body.password',
  })),
  {
    name: 'signup with a non-email',
    method: 'POST',
    url: () => '/api/auth/signup',
    json: () => ({ email: "admin'--", password: 'correct horse battery' }),
    status: 400,
    path: 'body.email',
  },
  {
    name: 'signup asking to be admin',
    method: 'POST',
    url: () => '/api/auth/signup',
    json: () => ({ email: 'sneaky@example.com', password: 'correct horse battery', role: 'admin' }),
    status: 400,
    path: 'body.role',
  },
  // ---- Host header (DNS rebinding): only loopback names, IP literals and configured hosts -------
  ...(
    [
      ['a rebinding name', 'rebind.evil.example'],
      ['a rebinding name with our port', 'rebind.evil.example:8080'],
      ['a name ending in localhost', 'localhost.evil.example'],
      ['a name starting with 127.0.0.1', '127.0.0.1.evil.example'],
      ['userinfo smuggling', 'localhost@evil.example'],
      ['a path in Host', 'localhost/evil'],
      ['a bad port', 'localhost:99999'],
    ] as const
  ).flatMap(([what, host]): Case[] => [
    {
      name: `signup with Host ${what}`,
      method: 'POST',
      url: () => '/api/auth/signup',
      json: () => ({ email: 'rebound@example.com', password: 'correct horse battery' }),
      headers: { host },
      status: 421,
      code: 'HOST_NOT_ALLOWED',
    },
    {
      name: `experiment create with Host ${what}`,
      method: 'POST',
      url: () => '/api/experiments',
      json: () => ({ name: 'rebound' }),
      headers: { host },
      status: 421,
      code: 'HOST_NOT_ALLOWED',
    },
  ]),
  {
    name: 'experiment read with a rebinding Host',
    method: 'GET',
    url: (f) => `/api/experiments/${f.exp}`,
    headers: { host: 'rebind.evil.example' },
    status: 421,
    code: 'HOST_NOT_ALLOWED',
  },
  {
    name: 'a rebinding Host passed as X-Forwarded-Host without a trusted proxy',
    method: 'POST',
    url: () => '/api/experiments',
    json: () => ({ name: 'rebound' }),
    headers: { host: 'rebind.evil.example', 'x-forwarded-host': 'localhost' },
    status: 421,
    code: 'HOST_NOT_ALLOWED',
  },
  {
    name: 'login with numbers',
    method: 'POST',
    url: () => '/api/auth/login',
    json: () => ({ email: 1, password: 2 }),
    status: 400,
  },
];

describe.each(DIALECTS)('hostile input on %s', (dialect) => {
  let server: TestServer;
  let alice: TestUser;
  let f: Fixture;

  async function snapshot(): Promise<unknown> {
    const db = server.database.db;
    const tables = [
      'users',
      'sessions',
      'api_keys',
      'workspaces',
      'workspace_members',
      'experiments',
      'experiment_tags',
      'metric_series',
      'metric_blocks',
      'metric_batches',
    ] as const;
    const counts: Record<string, number> = {};
    for (const t of tables) {
      counts[t] = Number(
        (
          await db
            .selectFrom(t)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    }
    const points = await db
      .selectFrom('metric_series')
      .select((eb) => eb.fn.sum<number>('point_count').as('n'))
      .executeTakeFirstOrThrow();
    return {
      counts,
      points: Number(points.n ?? 0),
      experiments: await db.selectFrom('experiments').selectAll().where('workspace_id', '=', f.ws).orderBy('id').execute(),
      series: await db.selectFrom('metric_series').selectAll().orderBy('id').execute(),
      workspaces: await db.selectFrom('workspaces').selectAll().orderBy('id').execute(),
      members: await db
        .selectFrom('workspace_members')
        .select(['workspace_id', 'user_id', 'role'])
        .orderBy('workspace_id')
        .orderBy('user_id')
        .execute(),
    };
  }

  async function send(c: Case): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = { 'x-api-key': alice.key, ...c.headers };
    if (c.raw) {
      headers['content-type'] = c.contentType ?? 'application/json';
      return server.app.inject({ method: c.method, url: c.url(f), headers, payload: c.raw() });
    }
    const body = c.json?.(f);
    if (c.contentType) headers['content-type'] = c.contentType;
    return server.app.inject({
      method: c.method,
      url: c.url(f),
      headers,
      ...(body === undefined ? {} : { payload: body as object }),
    });
  }

  beforeAll(async () => {
    server = await startTestServer(dialect);
    alice = await signUp(server.app);
    const exp = await createExperiment(server.app, alice, { name: 'target', tags: ['keep'], hyperparams: { lr: 0.1 } });
    const other = await createExperiment(server.app, alice, { name: 'other', referenceId: exp });
    const seeded = await call(server.app, alice, 'POST', `/api/experiments/${exp}/metrics/batch`, {
      batchId: 'seed-batch',
      series: { loss: { steps: [0, 1, 2], values: [1, 0.5, 0.25] } },
    });
    expect(seeded.statusCode).toBe(201);
    f = { ws: alice.defaultWorkspaceId, exp, other };
  });
  afterAll(() => server.close());

  it('has at least 40 hostile cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(CASES.map((c) => ({ ...c, label: `${c.method} ${c.name}` })))('$label', async (c) => {
    const before = await snapshot();
    const res = await send(c);
    const allowed = typeof c.status === 'number' ? [c.status] : c.status;
    expect(allowed, `${res.statusCode} ${res.body.slice(0, 500)}`).toContain(res.statusCode);
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const code = errorCode(res);
    if (c.code !== undefined) expect(typeof c.code === 'string' ? [c.code] : c.code).toContain(code);
    const error = res.json<{ error: { message: string; details?: { path: string; message: string }[] } }>().error;
    expect(res.body).not.toMatch(/\bat .+\.(ts|js):\d+/); // no stack trace
    if (c.path !== undefined) {
      expect(Array.isArray(error.details), `details of ${res.body.slice(0, 300)}`).toBe(true);
      expect(error.details!.map((d) => d.path)).toContain(c.path);
      for (const d of error.details!) expect(typeof d.message).toBe('string');
    }
    if (c.message !== undefined) expect(error.message.replace(/[,_ ]/g, '')).toContain(c.message);
    expect(await snapshot()).toEqual(before);
  });

  it('the fixture experiment is exactly as seeded after all of that', async () => {
    const exp = (await call(server.app, alice, 'GET', `/api/experiments/${f.exp}`)).json();
    expect(exp).toMatchObject({
      name: 'target',
      tags: ['keep'],
      hyperparams: [{ key: 'lr', value: 0.1 }],
      availableMetrics: ['loss'],
    });
    const raw = (await call(server.app, alice, 'GET', `/api/experiments/${f.exp}/metrics/raw?name=loss`)).json();
    expect(raw.points.map((p: { step: number; value: number }) => [p.step, p.value])).toEqual([
      [0, 1],
      [1, 0.5],
      [2, 0.25],
    ]);
  });

  describe('SQL and HTML are data, not code', () => {
    const NAMES = [
      "Robert'); DROP TABLE experiments;--",
      "1' OR '1'='1",
      '<script>alert("x")</script>',
      '<img src=x onerror=alert(1)>',
      '"; DELETE FROM users; --',
      '\\x27 \\u0027 %27',
      'ünïcødé 🚀 مرحبا',
    ];

    it('stores names, descriptions, tags and hyperparams verbatim and returns them as JSON', async () => {
      for (const name of NAMES) {
        const created = await call(server.app, alice, 'POST', '/api/experiments', {
          name,
          description: name,
          tags: [name.replace(/,/g, ';').slice(0, 64)],
          hyperparams: { [name]: name },
        });
        expect(created.statusCode, created.body).toBe(201);
        expect(created.headers['content-type']).toMatch(/^application\/json/);
        const id = created.json().experiment.id as string;
        const got = await call(server.app, alice, 'GET', `/api/experiments/${id}`);
        expect(got.headers['content-type']).toMatch(/^application\/json/);
        // The raw body is JSON text, so `<` never appears as markup outside a JSON string.
        expect(JSON.parse(got.body)).toMatchObject({
          name,
          description: name,
          tags: [name.replace(/,/g, ';').slice(0, 64)],
          hyperparams: [{ key: name, value: name }],
        });
      }
      // The tables are still there and hold what they held.
      const count = await server.database.db
        .selectFrom('experiments')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(count.n)).toBeGreaterThanOrEqual(NAMES.length + 2);
      expect((await call(server.app, alice, 'GET', '/api/auth/me')).statusCode).toBe(200);
    });

    it('stores hostile metric and workspace names verbatim', async () => {
      const exp = await createExperiment(server.app, alice, { name: 'metric names' });
      const names = ["loss'; DROP TABLE metric_series;--", '<b>acc</b>', 'a,"quoted",b'];
      const res = await call(
        server.app,
        alice,
        'POST',
        `/api/experiments/${exp}/metrics/batch`,
        names.map((name, i) => ({ name, value: i, step: 0 })),
      );
      expect(res.statusCode, res.body).toBe(201);
      const listed = (await call(server.app, alice, 'GET', `/api/experiments/${exp}/metrics`)).json();
      expect(listed.metrics.map((m: { name: string }) => m.name).sort()).toEqual([...names].sort());
      for (const name of names) {
        const series = await call(
          server.app,
          alice,
          'GET',
          `/api/experiments/${exp}/metrics/series?name=${encodeURIComponent(name)}`,
        );
        expect(series.statusCode).toBe(200);
        expect(series.json().name).toBe(name);
      }
      const csv = (await call(server.app, alice, 'GET', `/api/experiments/${exp}/metrics/csv`)).body;
      expect(csv).toContain('"a,""quoted"",b",0,2,');
      const ws = await call(server.app, alice, 'POST', '/api/workspaces', {
        name: "<h1>ws</h1>'; --",
        description: '<script></script>',
      });
      expect(ws.statusCode).toBe(201);
      expect(ws.json()).toMatchObject({ name: "<h1>ws</h1>'; --", description: '<script></script>' });
    });

    it('treats LIKE wildcards and quotes in the name search literally', async () => {
      const ws = (await call(server.app, alice, 'POST', '/api/workspaces', { name: 'search' })).json().id as string;
      for (const name of ['100% done', 'under_score', 'plain', "o'brien", 'back\\slash']) {
        await createExperiment(server.app, alice, { name, workspaceId: ws });
      }
      const search = async (q: string) => {
        const res = await call(
          server.app,
          alice,
          'GET',
          `/api/experiments?workspace=${ws}&startwith=${encodeURIComponent(q)}&sort=name`,
        );
        expect(res.statusCode, res.body).toBe(200);
        return res.json<{ experiments: { name: string }[] }>().experiments.map((e) => e.name);
      };
      expect(await search('%')).toEqual(['100% done']);
      expect(await search('_')).toEqual(['under_score']);
      expect(await search("'")).toEqual(["o'brien"]);
      expect(await search('\\')).toEqual(['back\\slash']);
      expect(await search("' OR '1'='1")).toEqual([]);
      const tagged = await call(
        server.app,
        alice,
        'GET',
        `/api/experiments?workspace=${ws}&tags=${encodeURIComponent("x' OR '1'='1")}`,
      );
      expect(tagged.statusCode).toBe(200);
      expect(tagged.json().experiments).toEqual([]);
      const bySqlMetric = await call(
        server.app,
        alice,
        'GET',
        `/api/experiments?workspace=${ws}&sort=${encodeURIComponent("metric:loss'; DROP TABLE experiments;--")}`,
      );
      expect(bySqlMetric.statusCode, bySqlMetric.body).toBe(200);
      expect(bySqlMetric.json().experiments).toHaveLength(5);
    });
  });

  describe('NUL bytes and odd numbers never cause a 500', () => {
    // A NUL is either refused with a 400 or stored and returned verbatim — on both databases alike.
    const nul = 'a\u0000b';
    const probes: { name: string; method: Method; url: (f: Fixture) => string; body?: (f: Fixture) => unknown }[] = [
      { name: 'experiment name', method: 'POST', url: () => '/api/experiments', body: () => ({ name: nul }) },
      {
        name: 'experiment description',
        method: 'POST',
        url: () => '/api/experiments',
        body: () => ({ name: 'x', description: nul }),
      },
      { name: 'experiment tag', method: 'POST', url: () => '/api/experiments', body: () => ({ name: 'x', tags: [nul] }) },
      { name: 'workspace name', method: 'POST', url: () => '/api/workspaces', body: () => ({ name: nul }) },
      { name: 'key name', method: 'POST', url: () => '/api/keys', body: () => ({ name: nul }) },
      { name: 'rename', method: 'PUT', url: (fx) => `/api/experiments/${fx.other}`, body: () => ({ name: nul }) },
      { name: 'name search', method: 'GET', url: () => `/api/experiments?startwith=${encodeURIComponent(nul)}` },
      { name: 'tag filter', method: 'GET', url: () => `/api/experiments?tags=${encodeURIComponent(nul)}` },
      { name: 'metric sort', method: 'GET', url: () => `/api/experiments?sort=${encodeURIComponent(`metric:${nul}`)}` },
      {
        name: 'series name',
        method: 'GET',
        url: (fx) => `/api/experiments/${fx.exp}/metrics/series?name=${encodeURIComponent(nul)}`,
      },
      { name: 'raw name', method: 'GET', url: (fx) => `/api/experiments/${fx.exp}/metrics/raw?name=${encodeURIComponent(nul)}` },
      { name: 'csv name', method: 'GET', url: (fx) => `/api/experiments/${fx.exp}/metrics/csv?name=${encodeURIComponent(nul)}` },
      {
        name: 'member email',
        method: 'POST',
        url: (fx) => `/api/workspaces/${fx.ws}/members`,
        body: () => ({ email: `x${nul}@example.com`, role: 'viewer' }),
      },
      {
        name: 'login email',
        method: 'POST',
        url: () => '/api/auth/login',
        body: () => ({ email: `x${nul}@example.com`, password: 'correct horse battery' }),
      },
      {
        name: 'metadata string',
        method: 'POST',
        url: (fx) => `/api/experiments/${fx.other}/metrics/batch`,
        body: () => [{ name: 'm', value: 1, metadata: { note: nul } }],
      },
      {
        name: 'hyperparam value',
        method: 'POST',
        url: () => '/api/experiments',
        body: () => ({ name: 'x', hyperparams: { k: nul } }),
      },
      {
        name: 'huge list cursor offset',
        method: 'GET',
        url: () => `/api/experiments?cursor=${b64({ o: 1e20 })}`,
      },
      {
        name: 'huge raw cursor',
        method: 'GET',
        url: (fx) => `/api/experiments/${fx.exp}/metrics/raw?name=loss&cursor=${b64([1e20, 1e20])}`,
      },
      {
        name: 'series range 1e308',
        method: 'GET',
        url: (fx) => `/api/experiments/${fx.exp}/metrics/series?name=loss&from=-1e308&to=1e308`,
      },
    ];

    it.each(probes)('$name', async (p) => {
      const body = p.body?.(f);
      const res = await server.app.inject({
        method: p.method,
        url: p.url(f),
        headers: { 'x-api-key': alice.key },
        ...(body === undefined ? {} : { payload: body as object }),
      });
      expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500);
      if (res.statusCode >= 400) {
        expect([400, 401, 404]).toContain(res.statusCode); // 401: a login that matches no account
        errorCode(res);
      } else if (p.method !== 'GET' && body && typeof body === 'object' && !Array.isArray(body)) {
        // Accepted: it must come back verbatim.
        expect(res.body).toContain('\\u0000');
      }
    });
  });
});
