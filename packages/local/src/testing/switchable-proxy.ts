import type { AddressInfo } from "node:net";
import net from "node:net";

export interface SwitchableProxy {
  url: string;
  /** false: every new connection is reset at once, as by a service that is down. */
  setAvailable(available: boolean): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of an emulator, to make it unreachable on demand: the client under test
 * keeps its endpoint, and its requests fail the way they would if the service refused them.
 */
export async function startSwitchableProxy(targetUrl: string): Promise<SwitchableProxy> {
  const target = new URL(targetUrl);
  let available = true;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (!available) return void client.resetAndDestroy();
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setAvailable(value) {
      available = value;
      // Kept-alive connections would otherwise still get through.
      if (!value) for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
