import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateOpenApi } from '../src/openapi.js';

describe('openapi/openapi.json', () => {
  it('is the document the route schemas generate (run `npm run openapi -w apps/server` when this fails)', async () => {
    const committed = fs.readFileSync(new URL('../../../openapi/openapi.json', import.meta.url), 'utf8');
    expect(committed).toBe(await generateOpenApi());
  });

  it('covers every contract path and publishes the batch limits', async () => {
    const doc = JSON.parse(await generateOpenApi()) as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    for (const p of [
      '/api/experiments',
      '/api/experiments/{id}',
      '/api/experiments/{id}/metrics/batch',
      '/api/experiments/{id}/ref',
      '/api/experiments/{id}/ref/{refId}',
      '/api/workspaces',
      '/api/workspaces/{id}',
      '/api/keys',
      '/api/keys/{id}',
      '/api/health',
    ]) {
      expect(doc.paths[p], p).toBeDefined();
    }
    expect(JSON.stringify(doc.paths['/api/experiments/{id}/metrics/batch'])).toContain('200000 points');
  });
});
