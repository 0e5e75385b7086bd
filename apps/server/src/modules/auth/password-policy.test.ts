import { describe, expect, it } from 'vitest';
import { MIN_PASSWORD_LENGTH, passwordProblem } from './password-policy.js';

const EMAIL = 'alice.smith@example.com';

describe('passwordProblem', () => {
  it.each([
    ['12345678', /too common/],
    ['password', /too common/],
    ['Password', /too common/],
    ['password123', /too common/],
    ['PASSWORD1', /too common/],
    ['iloveyou', /too common/],
    ['qwertyuiop', /too common/],
    ['pass word', /too common/],
    ['  password  ', /too common/],
    ['98765432', /too common/],
    ['abcdefghij', /too common/],
    ['2345678901', /too common/],
    ['        ', /too repetitive/],
    ['                    ', /too repetitive/],
    ['aaaaaaaaaaaa', /too repetitive/],
    ['abababababab', /too repetitive/],
    ['a a a a a a a b', /too repetitive/],
    ['short', /at least 8 characters/],
    ['sevenc7', /at least 8 characters/],
    ['x'.repeat(1025), /at most 1024/],
    ['alice.smith@example.com', /e-mail address/],
    ['alice.smith99', /your name/],
  ])('refuses %j', (password, message) => {
    expect(passwordProblem(password, EMAIL)).toMatch(message);
  });

  it.each(['correct horse battery', 'long enough pw', 'Tr0ub4dor&3x', 'bench-marking', 'alice.smith: blue kettle', 'ÅÄÖ åäö ÆØ'])(
    'accepts %j',
    (password) => {
      expect(passwordProblem(password, EMAIL)).toBeNull();
    },
  );

  it('counts characters, not UTF-16 units', () => {
    expect(MIN_PASSWORD_LENGTH).toBe(8);
    expect(passwordProblem('🐸🦊🐼🐨🐯🦁🐮', EMAIL)).toMatch(/at least 8/); // 7 emoji, 14 UTF-16 units
  });
});
