/**
 * A TCP pass-through that counts the connections a child opens. A client built once per container keeps its
 * connection pool (the AWS SDK's keep-alive agent, a gRPC channel) across invocations, so a warm invocation
 * opens no connection; a client built per invocation has a new pool and must connect again. Counting at the
 * socket level works on the unmodified bundle, from outside the process.
 */
import net from 'node:net';

export interface CountingProxy {
  /** `host:port` to give the child instead of the real endpoint. */
  readonly address: string;
  readonly connections: number;
  stop(): Promise<void>;
}

export async function startCountingProxy(target: { host: string; port: number }): Promise<CountingProxy> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    connections += 1;
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      // Either side failing ends both; the child's SDK sees a reset, as with any dropped connection.
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
