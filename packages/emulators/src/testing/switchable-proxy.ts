import type { AddressInfo } from "node:net";
import net from "node:net";

export interface SwitchableProxy {
  url: string;
  /** false: every new connection is reset at once, as by a service that is down. */
  setAvailable(available: boolean): void;
  /**
   * true: connections are accepted and nothing is answered, as by an emulator too busy to reply;
   * the client's own timeouts end its calls. false: the connections left waiting are cut and new
   * ones reach the service again.
   */
  setSilent(silent: boolean): void;
  /** Connections accepted since start (each SDK call needs one unless a kept-alive one is free). */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of an emulator, to make it unreachable on demand: the client under test
 * keeps its endpoint, and its requests fail the way they would if the service refused them or
 * never answered.
 */
export async function startSwitchableProxy(targetUrl: string): Promise<SwitchableProxy> {
  const target = new URL(targetUrl);
  let available = true;
  let silent = false;
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  };
  const cutAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  const server = net.createServer((client) => {
    connections++;
    if (!available) return void client.resetAndDestroy();
    track(client);
    if (silent) return void client.on("error", () => client.destroy());
    const upstream = net.connect(Number(target.port), target.hostname);
    track(upstream);
    for (const socket of [client, upstream]) {
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
    get connections() {
      return connections;
    },
    setAvailable(value) {
      available = value;
      // Kept-alive connections would otherwise still get through.
      if (!value) cutAll();
    },
    setSilent(value) {
      if (value === silent) return;
      silent = value;
      // Going silent: a kept-alive connection would still get through. Back: the calls left
      // waiting get an error now rather than at their timeout.
      cutAll();
    },
    close: () =>
      new Promise<void>((resolve) => {
        cutAll();
        server.close(() => resolve());
      }),
  };
}
