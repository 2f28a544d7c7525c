import { InternalError, InputError, type EmbctlError } from '../errors.js';
import { scrubSecrets } from '../log/logger.js';

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
      return new InternalError(`cannot reach PostgreSQL at ${where} (connection refused): is the server running? Check DATABASE_URL`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new InternalError(`cannot resolve the host of ${where}: check the host name in DATABASE_URL`);
    case 'ETIMEDOUT':
      return new InternalError(`connecting to ${where} timed out: check the host, port and firewall`);
    case '28P01':
    case '28000':
      return new InputError(`PostgreSQL refused the login for ${where} (${msg}): check the user and password in DATABASE_URL`);
    case '3D000':
      return new InputError(`database in ${where} does not exist: create it (createdb) or fix DATABASE_URL`);
    default:
      return new InternalError(`cannot connect to PostgreSQL at ${where}: ${msg}`);
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
