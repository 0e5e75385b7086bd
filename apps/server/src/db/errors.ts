import { AppError } from '../errors.js';

/** SQLSTATEs of a database that is going away or not there yet (class 08, and 57P01–57P03), or out of connections. */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006']);
/** Socket errors of a connection the database dropped or refused. */
const UNAVAILABLE_SOCKET = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** What pg says of a connection it lost or could not open in time. */
const UNAVAILABLE_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

/**
 * A database failure that is not the request's fault, as the 503 it answers: the database is away
 * (restart, failover: the pool reconnects once it is back) or cancelled the statement (the
 * statement timeout, or the client went away). Undefined for any other error.
 */
export function databaseUnavailable(err: unknown): AppError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (code === '57014') {
    return new AppError('QUERY_TIMEOUT', 503, 'The database cancelled the query: it ran past the statement timeout');
  }
  const unavailable =
    (typeof code === 'string' && (UNAVAILABLE_STATES.has(code) || UNAVAILABLE_SOCKET.has(code))) ||
    (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message));
  return unavailable ? new AppError('DATABASE_UNAVAILABLE', 503, 'The database is unavailable; try again shortly') : undefined;
}
