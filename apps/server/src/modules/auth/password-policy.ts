import { dictionary } from '@zxcvbn-ts/language-common';
import { ACCOUNT_LIMITS } from '../../lib/limits.js';

export const MIN_PASSWORD_LENGTH = ACCOUNT_LIMITS.minPasswordLength;
const MAX_PASSWORD_LENGTH = ACCOUNT_LIMITS.maxPasswordLength;

/**
 * The ~49,000 most common passwords (lowercase), from zxcvbn-ts's maintained `passwords-common`
 * list (@zxcvbn-ts/language-common, MIT; frequency-ranked leaked passwords). Built once per
 * process; read-only afterwards.
 */
const COMMON = new Set<string>(dictionary['passwords-common']);

/** Counting and keyboard runs, both ways, repeated: a password that is a piece of one (`12345678`, `qwertyui`, `98765432`) is refused. */
const RUNS = ['0123456789', 'abcdefghijklmnopqrstuvwxyz', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm', '1qaz2wsx3edc4rfv5tgb']
  .flatMap((run) => [run, [...run].reverse().join('')])
  .map((run) => run.repeat(3))
  .join('|');

/**
 * Why a password may not be used, or null when it may. NIST SP 800-63B's rules: a minimum length,
 * no blocklisted (common, repetitive, sequential or context-specific) passwords, and no other
 * composition rules.
 *
 * @example
 *   passwordProblem('12345678', 'a@example.com'); // 'is too common: …'
 *   passwordProblem('correct horse battery', 'a@example.com'); // null
 */
export function passwordProblem(password: string, email: string): string | null {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return `must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (length > MAX_PASSWORD_LENGTH) return `must be at most ${MAX_PASSWORD_LENGTH} characters`;
  const lowered = password.toLowerCase();
  const compact = lowered.replace(/\s+/g, '');
  if (new Set(compact).size < 3) return 'is too repetitive: use at least 3 different characters besides spaces';
  const common =
    'is too common: it is on the lists of passwords attackers try first; choose another (a few unrelated words make a good one)';
  if (COMMON.has(lowered) || COMMON.has(lowered.trim()) || COMMON.has(compact) || RUNS.includes(compact)) return common;
  // Context-specific: the account's own address, or its name with fewer than 4 other characters.
  const address = email.trim().toLowerCase();
  const name = address.split('@')[0] ?? '';
  if (compact === address || (name.length >= 3 && compact.replace(name, '').length < 4)) {
    return 'must not be your e-mail address or your name with little else';
  }
  return null;
}
