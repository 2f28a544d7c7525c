/**
 * The floor under `POST /v1/search` in bench/search.ts: node:http itself
 * around the same library call, in the same process. A bare
 * `http.createServer` reads the JSON body, awaits `searcher.search`, and
 * writes the hits as JSON: no routing, validation, admission control,
 * metrics or request log. What the service costs over it is what
 * embctl's HTTP layer adds; what it costs over the library is what any
 * node:http service would pay on this machine.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Searcher } from '../src/search/index.js';

export async function startHttpFloor(searcher: Searcher): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const { query, k } = JSON.parse(Buffer.concat(parts).toString('utf8')) as { query: string; k: number };
      searcher.search({ query, k }).then(
        (r) => {
          const text = JSON.stringify({ version: r.version, hits: r.hits });
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
          res.end(text);
        },
        (e: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(e.message);
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
