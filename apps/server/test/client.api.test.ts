import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script shared with the server build, no types
import { buildClientWheel } from '../../../scripts/build-client-wheel.mjs';
import { DIALECTS, tempDir, useTestServer } from './harness.js';

describe.each(DIALECTS)('the Python client wheel served on %s', (dialect) => {
  let dir: string;
  let file: string;

  beforeAll(() => {
    dir = tempDir('client-');
    file = (buildClientWheel as (outDir: string) => string)(dir);
  });
  // The server answers to gpu-box (a LAN name) as an operator would configure it.
  const server = useTestServer(dialect, { TORA_ALLOWED_HOSTS: 'gpu-box' }, { clientDir: () => dir });

  it('says where to pip install it, on the address the caller used', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/api/client', headers: { host: 'gpu-box:8080' } });
    expect(res.statusCode).toBe(200);
    expect(file).toMatch(/^tora_client-\d+\.\d+\.\d+-py3-none-any\.whl$/);
    expect(res.json()).toEqual({
      name: 'tora-client',
      version: file.split('-')[1],
      file,
      url: `http://gpu-box:8080/api/client/${file}`,
      install: `pip install http://gpu-box:8080/api/client/${file}`,
    });
  });

  describe('on a server that answers to any Host', () => {
    const open = useTestServer(dialect, { TORA_ALLOWED_HOSTS: '*', TORA_PORT: '8123' }, { clientDir: () => dir, listen: true });

    it('never builds the install command from a Host the caller chose', async () => {
      // Any name (TORA_ALLOWED_HOSTS=*) and any IP literal pass the Host check; neither names this server for certain.
      for (const host of ['evil.example', 'evil.example:8080', '203.0.113.9:8080']) {
        const res = await open.app.inject({ method: 'GET', url: '/api/client', headers: { host } });
        expect(res.statusCode).toBe(200);
        expect(res.json().install, host).toBe(`pip install http://localhost:8123/api/client/${file}`);
      }
      // The address the connection came in on does.
      const port = Number(new URL(open.origin!).port);
      const local = await new Promise<string>((resolve, reject) =>
        http
          .get({ host: '127.0.0.1', port, path: '/api/client' }, (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve(text));
          })
          .on('error', reject),
      );
      expect(JSON.parse(local).url).toBe(`http://127.0.0.1:${port}/api/client/${file}`);
    });
  });

  it('serves the wheel itself, and 404 for any other file', async () => {
    const res = await server.app.inject({ method: 'GET', url: `/api/client/${file}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/zip');
    expect(res.rawPayload.equals(fs.readFileSync(path.join(dir, file)))).toBe(true);
    const other = await server.app.inject({ method: 'GET', url: '/api/client/tora-9.9.9-py3-none-any.whl' });
    expect(other.statusCode).toBe(404);
    expect(other.json().error.code).toBe('NOT_FOUND');
  });

  describe('with TORA_PUBLIC_URL, and built without the wheel', () => {
    const public_ = useTestServer(dialect, { TORA_PUBLIC_URL: 'https://tora.example.com' }, { clientDir: () => dir });
    const bare = useTestServer(dialect);

    it('uses TORA_PUBLIC_URL when set, and explains a server built without the wheel', async () => {
      const res = await public_.app.inject({ method: 'GET', url: '/api/client' });
      expect(res.json().url).toBe(`https://tora.example.com/api/client/${file}`);
      const missing = await bare.app.inject({ method: 'GET', url: '/api/client' });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error.message).toContain('npm run build -w apps/server');
    });
  });
});
