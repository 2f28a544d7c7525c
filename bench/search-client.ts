/**
 * The HTTP side of bench/search.ts: `runLoad`, the serial clients
 * `rawHttpSearch` (the measuring client) and `httpSearch` (node:http's), and
 * `startHttpFloor` (the node:http floor).
 *
 * HTTP load, run in a worker thread (its own event loop,
 * so the clients do not share the service's thread): `clients` concurrent
 * closed-loop clients POST /v1/search on 127.0.0.1 until `requests` requests
 * were sent (or, open loop, Poisson arrivals at `rate` per second); each request's latency is measured around `fetch` + reading the
 * body. The worker source is plain JavaScript (no loader needed in the thread).
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import type { Searcher } from '../src/search/index.js';
import { KEEP_ALIVE_IDLE_MS } from '../src/serve/server.js';

export interface LoadResult {
  latenciesMs: number[];
  errors: number;
  wallMs: number;
  versions: Record<string, number>;
}

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { url, queries, clients, requests, offset, rate, seed } = workerData;
(async () => {
  const lat = [];
  const versions = {};
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  async function client() {
    for (;;) {
      const i = next++;
      if (i >= requests) return;
      const q = queries[(offset + i) % queries.length];
      const s = performance.now();
      try {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q, k: 10 }) });
        const body = await res.json();
        if (res.status !== 200) errors++;
        else versions[body.version] = (versions[body.version] || 0) + 1;
      } catch (e) {
        errors++;
      }
      lat.push(performance.now() - s);
    }
  }
  async function one(i) {
    const q = queries[(offset + i) % queries.length];
    const s = performance.now();
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q, k: 10 }) });
      const body = await res.json();
      if (res.status !== 200) errors++;
      else versions[body.version] = (versions[body.version] || 0) + 1;
    } catch (e) {
      errors++;
    }
    lat.push(performance.now() - s);
  }
  if (rate > 0) {
    // Open loop: Poisson arrivals at \`rate\` per second (seeded), each request
    // sent at its time whether or not earlier ones have finished.
    let st = (seed >>> 0) || 1;
    const rnd = () => { st = (Math.imul(st, 1664525) + 1013904223) >>> 0; return (st + 0.5) / 4294967296; };
    const pending = [];
    let at = 0;
    for (let i = 0; i < requests; i++) {
      at += -Math.log(rnd()) / rate * 1000;
      const wait = t0 + at - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      pending.push(one(i));
    }
    await Promise.all(pending);
  } else {
    await Promise.all(Array.from({ length: clients }, client));
  }
  parentPort.postMessage({ latenciesMs: lat, errors, wallMs: performance.now() - t0, versions });
})().catch((e) => { throw e; });
`;

/** Closed loop (`clients` concurrent, back to back), or open loop when `rate` (requests/s) is given. */
export function runLoad(opts: {
  url: string;
  queries: string[];
  clients: number;
  requests: number;
  offset: number;
  rate?: number;
  seed?: number;
}): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(SOURCE, { eval: true, workerData: { rate: 0, seed: 1, ...opts } });
    let done = false;
    w.once('message', (m: LoadResult) => {
      done = true;
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
    w.once('exit', (code) => {
      if (!done) reject(new Error(`load worker exited with ${code}`));
    });
  });
}

type SearchAnswer = { version: string; hits: { chunkId: number }[] };

/** A serial client of `POST /v1/search`, in the caller's own thread. */
export interface SerialClient {
  search: (query: string, k: number) => Promise<SearchAnswer>;
  close: () => void;
}

/**
 * node's own client of `POST /v1/search` on one kept-alive connection
 * (node:http, lighter than fetch): what an application calling the service
 * through node:http measures, minus the network. A diagnostic beside
 * `rawHttpSearch`, which measures the service.
 */
export function httpSearch(url: string): SerialClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const search = (query: string, k: number) =>
    new Promise<SearchAnswer>((resolve, reject) => {
      const body = JSON.stringify({ query, k });
      const req = http.request(
        url,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => {
            const text = Buffer.concat(parts).toString('utf8');
            if (res.statusCode !== 200) reject(new Error(`POST /v1/search: ${res.statusCode} ${text.slice(0, 200)}`));
            else resolve(JSON.parse(text) as SearchAnswer);
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return { search, close: () => agent.destroy() };
}

/**
 * The measuring client of `POST /v1/search` for serial latency: one kept-alive
 * TCP connection (no Nagle delay), a request written in one piece and the
 * response read by its Content-Length, as load generators (autocannon, wrk)
 * do, so that what it times is the server and the loopback, not a client
 * library: node's own `http.request` adds 0.37–0.51 ms a request on this
 * machine (bench/README.md). Serial only: one request at a time.
 */
export function rawHttpSearch(url: string): SerialClient {
  const { hostname, port, pathname } = new URL(url);
  let pending: { resolve: (a: SearchAnswer) => void; reject: (e: Error) => void } | undefined;
  const settle = (outcome: { answer: SearchAnswer } | { error: Error }) => {
    const p = pending;
    pending = undefined;
    if ('answer' in outcome) p?.resolve(outcome.answer);
    else p?.reject(outcome.error);
  };
  // A server closes an idle connection after its keep-alive timeout: the next request opens a new one.
  let socket: net.Socket | undefined;
  const connection = (): net.Socket => {
    if (socket && !socket.destroyed) return socket;
    const s = net.connect(Number(port), hostname);
    s.setNoDelay(true);
    let buffered: Buffer = Buffer.alloc(0);
    // Only the current connection settles a request: an old one's late 'close' is not this request's.
    s.on('error', (error) => socket === s && settle({ error }));
    s.on(
      'close',
      () => socket === s && settle({ error: new Error('POST /v1/search: the server closed the connection') }),
    );
    s.on('data', (d: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, d]) : d;
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.subarray(0, end).toString('latin1');
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (!length) {
        settle({ error: new Error(`POST /v1/search: a response without Content-Length: ${head.slice(0, 200)}`) });
        s.destroy();
        return;
      }
      const bodyEnd = end + 4 + Number(length[1]);
      if (buffered.length < bodyEnd) return;
      const text = buffered.subarray(end + 4, bodyEnd).toString('utf8');
      buffered = buffered.subarray(bodyEnd);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      if (status !== 200) settle({ error: new Error(`POST /v1/search: ${status} ${text.slice(0, 200)}`) });
      else settle({ answer: JSON.parse(text) as SearchAnswer });
    });
    socket = s;
    return s;
  };
  const search = (query: string, k: number) =>
    new Promise<SearchAnswer>((resolve, reject) => {
      if (pending) return reject(new Error('rawHttpSearch is serial: one request at a time'));
      pending = { resolve, reject };
      const body = JSON.stringify({ query, k });
      connection().write(
        `POST ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
  return { search, close: () => socket?.destroy() };
}

/**
 * The floor under `POST /v1/search` in bench/search.ts: node:http itself
 * around the same library call, in the same process. A bare
 * `http.createServer` reads the JSON body, awaits `searcher.search`, and
 * writes the hits as JSON: no routing, validation, admission control,
 * metrics or request log. What the service costs over it is what
 * embctl's HTTP layer adds; what it costs over the library is what any
 * node:http service would pay on this machine.
 */
export async function startHttpFloor(searcher: Searcher): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
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
  server.keepAliveTimeout = KEEP_ALIVE_IDLE_MS; // as the service: a kept connection outlives the other rotation
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
