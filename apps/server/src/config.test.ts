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
    [{ TORA_AI_CALLS_PER_HOUR: '0' }, /TORA_AI_CALLS_PER_HOUR must be an integer between 1 and/],
  ])('explains a bad value: %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('limits provider calls per user per hour: 30 by default, TORA_AI_CALLS_PER_HOUR otherwise', () => {
    expect(loadConfig({}).ai.callsPerHour).toBe(30);
    expect(loadConfig({ TORA_AI_CALLS_PER_HOUR: '5' }).ai.callsPerHour).toBe(5);
  });

  it('selects PostgreSQL from TORA_DATABASE_URL', () => {
    expect(loadConfig({ TORA_DATABASE_URL: 'postgres://u@h/db' }).databaseUrl).toBe('postgres://u@h/db');
  });
});
