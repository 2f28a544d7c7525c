import net from 'node:net';

/**
 * A TCP proxy in front of a PostgreSQL server that, once armed, ends each new
 * connection the way a server on its way down can: the startup's
 * ReadyForQuery and a FATAL 57P01 ("terminating connection due to
 * administrator command") in one write, then EOF. The client reads both in
 * one chunk, so its driver sees the FATAL in the same tick in which it
 * finished connecting, before any caller could add a listener of its own.
 */
export interface FatalProxy {
  /** The target URL with this proxy's host and port. */
  url: string;
  /** From now on, every new connection gets the FATAL (true) or passes through (false). */
  arm(on: boolean): void;
  /** End every connection open through the proxy (the pool's idle clients go with them). */
  dropAll(): void;
  /** How many connections were ended with the FATAL. */
  injected(): number;
  close(): Promise<void>;
}

export async function startFatalProxy(targetUrl: string): Promise<FatalProxy> {
  const target = new URL(targetUrl);
  let armed = false;
  let injected = 0;
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    track(client);
    track(upstream);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('data', (d: Buffer) => upstream.write(d));
    let inject = armed;
    let held: Buffer = Buffer.alloc(0);
    upstream.on('data', (d: Buffer) => {
      if (!inject) {
        client.write(d);
        return;
      }
      held = Buffer.concat([held, d]);
      // Walk the server's messages (type byte, int32 length) up to the first ReadyForQuery.
      let at = 0;
      while (held.length - at >= 5) {
        const end = at + 1 + held.readInt32BE(at + 1);
        if (end > held.length) break;
        const type = held[at];
        at = end;
        if (type === 0x5a) {
          inject = false;
          injected++;
          client.end(Buffer.concat([held.subarray(0, at), fatal57P01()]));
          upstream.destroy();
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    arm: (on) => {
      armed = on;
    },
    dropAll: () => {
      for (const s of sockets) s.destroy();
    },
    injected: () => injected,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An ErrorResponse: FATAL 57P01, as PostgreSQL sends it to its sessions on a fast shutdown. */
function fatal57P01(): Buffer {
  const field = (code: string, value: string) => Buffer.concat([Buffer.from(code), Buffer.from(`${value}\0`)]);
  const body = Buffer.concat([
    field('S', 'FATAL'),
    field('V', 'FATAL'),
    field('C', '57P01'),
    field('M', 'terminating connection due to administrator command'),
    Buffer.from([0]),
  ]);
  const head = Buffer.alloc(5);
  head[0] = 0x45; // 'E'
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}
