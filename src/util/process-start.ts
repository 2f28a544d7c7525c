import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * When the process with this pid started, as an opaque string that differs
 * between two processes that had the same pid one after the other; undefined
 * when it cannot be known (no such process, or no way to ask on this OS).
 * Linux: field 22 of /proc/<pid>/stat (clock ticks since boot); macOS and
 * other BSDs: `ps -o lstart=`.
 */
export function processStartTime(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return fields[19] ? `linux:${fields[19]}` : undefined;
    } catch {
      return undefined;
    }
  }
  if (process.platform === 'darwin' || process.platform.endsWith('bsd')) {
    try {
      const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 5000,
      }).trim();
      return out ? `ps:${out}` : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
