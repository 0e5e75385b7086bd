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
      logLevel: 'warn',
      dataDir: '/tmp/x',
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it.each([
    [{ TORA_PORT: 'eighty' }, /TORA_PORT must be an integer/],
    [{ TORA_PORT: '70000' }, /TORA_PORT/],
    [{ TORA_DATABASE_URL: 'mysql://x' }, /TORA_DATABASE_URL must start with postgres/],
    [{ TORA_ALLOW_SIGNUP: 'maybe' }, /TORA_ALLOW_SIGNUP must be true or false/],
    [{ TORA_DB_STATEMENT_TIMEOUT_MS: '-1' }, /TORA_DB_STATEMENT_TIMEOUT_MS must be an integer between 0 and 3600000/],
    [{ TORA_LOG_LEVEL: 'loud' }, /TORA_LOG_LEVEL must be one of/],
    [{ TORA_PUBLIC_URL: 'tora.example.com' }, /TORA_PUBLIC_URL must be an http\(s\) URL/],
    [{ TORA_PUBLIC_URL: 'ftp://tora.example.com' }, /TORA_PUBLIC_URL must be an http\(s\) URL/],
    [{ TORA_PUBLIC_URL: 'https://example.com/tora' }, /TORA_PUBLIC_URL must not have a path/],
    [{ TORA_TRUSTED_ORIGINS: 'https://ok.example,not an origin' }, /TORA_TRUSTED_ORIGINS must be an http\(s\) URL/],
    [{ TORA_ALLOWED_HOSTS: 'https://tora.example.com' }, /TORA_ALLOWED_HOSTS takes host names/],
    [{ TORA_ALLOWED_HOSTS: 'tora.example.com:8080' }, /TORA_ALLOWED_HOSTS takes host names/],
    [{ TORA_TRUST_PROXY: 'maybe' }, /TORA_TRUST_PROXY must be false, true/],
    [{ TORA_TRUST_PROXY: '10.0.0.0/33' }, /TORA_TRUST_PROXY must be/],
    [{ TORA_TRUST_PROXY: '11' }, /hop count must be between 0 and 10/],
    [{ TORA_PUBLIC_URL: 'https://example.com/?a=1' }, /TORA_PUBLIC_URL/],
    [{ TORA_AI_CALLS_PER_HOUR: '0' }, /TORA_AI_CALLS_PER_HOUR must be an integer between 1 and/],
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

  it('keeps files in the data directory by default, in a bucket with TORA_ARTIFACT_STORE=s3://bucket/prefix', () => {
    expect(loadConfig({}).artifactStore).toEqual({ kind: 'directory' });
    expect(
      loadConfig({
        TORA_ARTIFACT_STORE: 's3://team-tora/prod/files/',
        TORA_S3_ENDPOINT: 'http://seaweed:8333/',
        AWS_ACCESS_KEY_ID: 'AKID',
        AWS_SECRET_ACCESS_KEY: 'secret',
      }).artifactStore,
    ).toEqual({
      kind: 's3',
      bucket: 'team-tora',
      prefix: 'prod/files',
      endpoint: 'http://seaweed:8333',
      region: 'us-east-1',
      // An endpoint of one's own is served path-style unless told otherwise.
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret', sessionToken: undefined },
    });
    const aws = loadConfig({ TORA_ARTIFACT_STORE: 's3://b12', TORA_S3_REGION: 'eu-west-3' }).artifactStore;
    expect(aws).toMatchObject({
      bucket: 'b12',
      prefix: '',
      endpoint: null,
      region: 'eu-west-3',
      forcePathStyle: false,
      credentials: null,
    });
    expect(loadConfig({ TORA_ARTIFACT_STORE: 's3://b12', TORA_S3_FORCE_PATH_STYLE: 'true' }).artifactStore).toMatchObject({
      forcePathStyle: true,
    });
  });

  it('refuses a malformed store URL, endpoint or half a credential pair, naming the variable', () => {
    for (const bad of ['/data/files', 's3://', 's3://Bad_Bucket/x', 's3://b12/a//b', 's3://b12/../x', 'gs://b12']) {
      expect(() => loadConfig({ TORA_ARTIFACT_STORE: bad })).toThrow(/TORA_ARTIFACT_STORE must be empty or s3:\/\/bucket/);
    }
    expect(() => loadConfig({ TORA_ARTIFACT_STORE: 's3://b12', TORA_S3_ENDPOINT: 'seaweed:8333' })).toThrow(/TORA_S3_ENDPOINT/);
    expect(() => loadConfig({ TORA_ARTIFACT_STORE: 's3://b12', AWS_ACCESS_KEY_ID: 'AKID' })).toThrow(/AWS_SECRET_ACCESS_KEY/);
    expect(() => loadConfig({ TORA_ARTIFACT_STORE: 's3://b12', TORA_S3_FORCE_PATH_STYLE: 'maybe' })).toThrow(
      /TORA_S3_FORCE_PATH_STYLE/,
    );
  });

  it('sizes the PostgreSQL pool at 10 connections by default, TORA_DB_POOL_SIZE otherwise', () => {
    expect(loadConfig({}).dbPoolSize).toBe(10);
    expect(loadConfig({ TORA_DB_POOL_SIZE: '25' }).dbPoolSize).toBe(25);
    expect(() => loadConfig({ TORA_DB_POOL_SIZE: '0' })).toThrow(/TORA_DB_POOL_SIZE must be an integer between 1 and 1000/);
  });

  it('reads TORA_PUBLIC_URL as an origin (null when unset)', () => {
    expect(loadConfig({}).publicUrl).toBeNull();
    expect(loadConfig({ TORA_PUBLIC_URL: 'https://Tora.Example.com/' }).publicUrl).toBe('https://tora.example.com');
    expect(loadConfig({ TORA_PUBLIC_URL: 'http://10.0.0.5:8080' }).publicUrl).toBe('http://10.0.0.5:8080');
  });

  it('limits provider calls per user per hour: 30 by default, TORA_AI_CALLS_PER_HOUR otherwise', () => {
    expect(loadConfig({}).ai.callsPerHour).toBe(30);
    expect(loadConfig({ TORA_AI_CALLS_PER_HOUR: '5' }).ai.callsPerHour).toBe(5);
  });

  it('caps one MLflow artifact file at 5 GiB by default, TORA_MAX_ARTIFACT_BYTES otherwise', () => {
    expect(loadConfig({}).maxArtifactBytes).toBe(5 * 1024 ** 3);
    expect(loadConfig({ TORA_MAX_ARTIFACT_BYTES: '1048576' }).maxArtifactBytes).toBe(1048576);
    expect(() => loadConfig({ TORA_MAX_ARTIFACT_BYTES: '5G' })).toThrow(/TORA_MAX_ARTIFACT_BYTES must be an integer/);
    expect(() => loadConfig({ TORA_MAX_ARTIFACT_BYTES: '0' })).toThrow(/TORA_MAX_ARTIFACT_BYTES/);
  });

  it('has no per-workspace artifact quota unless TORA_MAX_WORKSPACE_BYTES sets one (0: none)', () => {
    expect(loadConfig({}).maxWorkspaceBytes).toBeNull();
    expect(loadConfig({ TORA_MAX_WORKSPACE_BYTES: '0' }).maxWorkspaceBytes).toBeNull();
    expect(loadConfig({ TORA_MAX_WORKSPACE_BYTES: '1073741824' }).maxWorkspaceBytes).toBe(1073741824);
    expect(() => loadConfig({ TORA_MAX_WORKSPACE_BYTES: '-1' })).toThrow(/TORA_MAX_WORKSPACE_BYTES must be an integer/);
  });

  it('selects PostgreSQL from TORA_DATABASE_URL', () => {
    expect(loadConfig({ TORA_DATABASE_URL: 'postgres://u@h/db' }).databaseUrl).toBe('postgres://u@h/db');
  });

  it('reads the public URL as an origin and admits its host', () => {
    const c = loadConfig({ TORA_PUBLIC_URL: 'https://Tora.Example.com:443/', TORA_ALLOWED_HOSTS: 'a.example, .B.example' });
    expect(c.publicUrl).toBe('https://tora.example.com');
    expect(c.allowedHosts).toEqual(['a.example', '.b.example', 'tora.example.com']);
    expect(loadConfig({}).publicUrl).toBeNull();
    expect(loadConfig({}).allowedHosts).toEqual([]);
  });

  it('normalizes trusted origins (default port, trailing slash, case)', () => {
    expect(loadConfig({ TORA_TRUSTED_ORIGINS: 'HTTPS://Tora.Example.com:443/, http://x.example:8080' }).trustedOrigins).toEqual([
      'https://tora.example.com',
      'http://x.example:8080',
    ]);
  });

  it.each([
    ['', false],
    ['false', false],
    ['0', false],
    ['true', 1],
    ['2', 2],
    ['10.0.0.1, 10.1.0.0/16,::1', ['10.0.0.1', '10.1.0.0/16', '::1']],
  ] as const)('TORA_TRUST_PROXY=%j trusts %j', (raw, expected) => {
    expect(loadConfig({ TORA_TRUST_PROXY: raw }).trustProxy).toEqual(expected);
  });
});
