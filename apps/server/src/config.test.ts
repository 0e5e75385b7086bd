import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('has safe defaults: loopback, port 8080, embedded SQLite, signup closed', () => {
    const c = loadConfig({ TORA_DATA_DIR: '/tmp/x' });
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      databaseUrl: null,
      allowSignup: false,
      logLevel: 'info',
      dataDir: '/tmp/x',
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it.each([
    [{ TORA_PORT: 'eighty' }, /TORA_PORT must be an integer/],
    [{ TORA_PORT: '70000' }, /TORA_PORT/],
    [{ TORA_DATABASE_URL: 'mysql://x' }, /TORA_DATABASE_URL must start with postgres/],
    [{ TORA_ALLOW_SIGNUP: 'maybe' }, /TORA_ALLOW_SIGNUP must be true or false/],
    [{ TORA_LOG_LEVEL: 'loud' }, /TORA_LOG_LEVEL must be one of/],
    [{ TORA_PUBLIC_URL: 'tora.example.com' }, /TORA_PUBLIC_URL must be an http\(s\) URL without a path/],
    [{ TORA_PUBLIC_URL: 'ftp://tora.example.com' }, /TORA_PUBLIC_URL/],
    [{ TORA_PUBLIC_URL: 'https://example.com/tora' }, /TORA_PUBLIC_URL/],
    [{ TORA_PUBLIC_URL: 'https://example.com/?a=1' }, /TORA_PUBLIC_URL/],
  ])('explains a bad value: %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('expands a leading ~ in directories, which env-file loaders pass on literally', () => {
    const c = loadConfig({ TORA_DATA_DIR: '~/.tora', TORA_CONFIG_DIR: '~' });
    expect(c.dataDir).toBe(path.join(os.homedir(), '.tora'));
    expect(c.clientConfigDir).toBe(os.homedir());
    expect(loadConfig({}).dataDir).toBe(path.join(os.homedir(), '.tora'));
    expect(loadConfig({ TORA_DATA_DIR: 'data/~x' }).dataDir).toBe(path.resolve('data/~x'));
  });

  it('.env.example loads as it stands (node --env-file), making no directory named ~', () => {
    const example = fs.readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8');
    const env = Object.fromEntries(
      example
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    const c = loadConfig(env);
    for (const dir of [c.dataDir, c.clientConfigDir]) expect(dir.split(path.sep)).not.toContain('~');
  });

  it('reads TORA_PUBLIC_URL as an origin (null when unset)', () => {
    expect(loadConfig({}).publicUrl).toBeNull();
    expect(loadConfig({ TORA_PUBLIC_URL: 'https://Tora.Example.com/' }).publicUrl).toBe('https://tora.example.com');
    expect(loadConfig({ TORA_PUBLIC_URL: 'http://10.0.0.5:8080' }).publicUrl).toBe('http://10.0.0.5:8080');
  });

  it('selects PostgreSQL from TORA_DATABASE_URL', () => {
    expect(loadConfig({ TORA_DATABASE_URL: 'postgres://u@h/db' }).databaseUrl).toBe('postgres://u@h/db');
  });
});
