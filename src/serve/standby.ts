import type { StandbyInfo } from '../db/index.js';
import { HttpError } from './http-util.js';

export { primaryFromConninfo, standbyInfo, type StandbyInfo } from '../db/index.js';

/** The answer to a write (activate, rollback) sent to a standby: 409, naming the primary. */
export function standbyRefusal(info: StandbyInfo): HttpError {
  const where = info.primary ? `the primary at ${info.primary}` : 'the primary (this server could not see its address)';
  return new HttpError(
    409,
    'read_only_standby',
    `this service reads from a hot standby, which cannot activate or roll back: send the request to a service connected to ${where}`,
  );
}
