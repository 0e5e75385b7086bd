import { describe, expect, it } from 'vitest';
import { databaseUnavailable } from './errors.js';

describe('databaseUnavailable', () => {
  it('is a 503 for a database going away, refusing or cancelling, and nothing for other errors', () => {
    const code = (err: unknown) => databaseUnavailable(err)?.code;
    expect(code({ code: '57P01', message: 'terminating connection due to administrator command' })).toBe('DATABASE_UNAVAILABLE');
    expect(code({ code: '57P03', message: 'the database system is starting up' })).toBe('DATABASE_UNAVAILABLE');
    expect(code({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:5432' })).toBe('DATABASE_UNAVAILABLE');
    expect(code(new Error('Connection terminated unexpectedly'))).toBe('DATABASE_UNAVAILABLE');
    expect(code(new Error('timeout exceeded when trying to connect'))).toBe('DATABASE_UNAVAILABLE');
    expect(code({ code: '57014', message: 'canceling statement due to statement timeout' })).toBe('QUERY_TIMEOUT');
    expect(databaseUnavailable({ code: '57014' })?.status).toBe(503);
    expect(code({ code: '23505', message: 'duplicate key value violates unique constraint' })).toBeUndefined();
    expect(code(new TypeError('x is undefined'))).toBeUndefined();
    expect(code('Connection terminated')).toBeUndefined();
  });
});
