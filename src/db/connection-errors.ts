import { InputError, UnavailableError, type EmbctlError } from '../errors.js';
import { scrubSecrets } from '../log/index.js';

/** A URL safe to print: the password replaced. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    // libpq and pg also take credentials as parameters: ?password=…, ?sslpassword=…
    for (const key of [...u.searchParams.keys()]) {
      if (SECRET_PARAM.test(key)) u.searchParams.set(key, '***');
    }
    return u.toString();
  } catch {
    return scrubSecrets(url);
  }
}

/** Turn a failure to reach the server into one line that says what to do. */
export function connectionError(e: unknown, url: string): EmbctlError {
  const where = redactUrl(url);
  const err = e as { code?: string; message?: string };
  const code = err.code ?? '';
  const msg = scrubSecrets(String(err.message ?? e), secretsOfUrl(url));
  switch (code) {
    case 'ECONNREFUSED':
      return new UnavailableError(
        `cannot reach PostgreSQL at ${where} (connection refused): is the server running? Check DATABASE_URL`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UnavailableError(`cannot resolve the host of ${where}: check the host name in DATABASE_URL`);
    case 'ETIMEDOUT':
      return new UnavailableError(`connecting to ${where} timed out: check the host, port and firewall`);
    case '28P01':
    case '28000':
      return new InputError(
        `PostgreSQL refused the login for ${where} (${msg}): check the user and password in DATABASE_URL`,
      );
    case '3D000':
      return new InputError(`database in ${where} does not exist: create it (createdb) or fix DATABASE_URL`);
    default:
      return new UnavailableError(`cannot connect to PostgreSQL at ${where}: ${msg}`);
  }
}

const SECRET_PARAM = /pass|secret|key|token/i;

/** Every credential a URL carries (for scrubbing messages). */
export function secretsOfUrl(url: string): string[] {
  try {
    const u = new URL(url);
    const out = u.password ? [decodeURIComponent(u.password)] : [];
    for (const [k, v] of u.searchParams) if (SECRET_PARAM.test(k) && v) out.push(v);
    return out;
  } catch {
    return [];
  }
}

/** Socket errors that mean the server cannot be reached or the connection broke. */
const LOST_SOCKET = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);
/**
 * SQLSTATEs that mean the session is gone or cannot be had now: class 08
 * (connection exception), the server shutting down or starting
 * (57P01-57P03), a session timeout (57P05, 25P03), or too many connections.
 */
const LOST_SQLSTATE = /^(08...|57P0[1235]|25P03|53300)$/;
const LOST_MESSAGE = /Connection terminated|not queryable|timeout exceeded when trying to connect/i;

/**
 * Whether an error means the database connection was lost or cannot be
 * made right now (as opposed to a refused statement): retrying later can
 * succeed. Only these become UnavailableError (503 in the HTTP service).
 */
export function isConnectionLoss(e: unknown): boolean {
  if (e instanceof UnavailableError) return true;
  const err = e as { code?: unknown; message?: unknown } | null;
  if (!err || typeof err !== 'object') return false;
  const code = typeof err.code === 'string' ? err.code : '';
  if (LOST_SOCKET.has(code) || LOST_SQLSTATE.test(code)) return true;
  return !code && LOST_MESSAGE.test(String(err.message ?? ''));
}

/**
 * An UnavailableError for a lost connection, keeping the driver's error as
 * the cause: the one line a command prints when its database went away in
 * the middle of the work.
 */
export function connectionLost(e: unknown): UnavailableError {
  if (e instanceof UnavailableError) return e;
  const err = e as { code?: string; message?: string };
  const text = String(err?.message ?? e)
    .split('\n')[0]!
    .slice(0, 200);
  const why = scrubSecrets(
    !text ? String(err?.code ?? 'unknown') : err?.code && !text.includes(err.code) ? `${err.code}: ${text}` : text,
  );
  return new UnavailableError(`the database connection was lost (${why}); run the same command again to resume`, {
    cause: e,
  });
}
