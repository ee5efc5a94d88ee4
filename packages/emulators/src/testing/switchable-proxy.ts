import type { AddressInfo } from "node:net";
import net from "node:net";

export interface SwitchableProxy {
  url: string;
  /** false: every new connection is reset at once, as by a service that is down. */
  setAvailable(available: boolean): void;
  /**
   * true: nothing is answered any more, on the open connections as on new ones, as by an emulator
   * too busy to reply; the client's own timeouts end its calls. false: the connections left
   * waiting are cut and new ones reach the service again.
   */
  setSilent(silent: boolean): void;
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
  const sockets = new Set<net.Socket>();
  const relays = new Set<{ client: net.Socket; upstream: net.Socket }>();
  const cutAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  const server = net.createServer((client) => {
    if (!available) return void client.resetAndDestroy();
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    if (silent) return;
    const upstream = net.connect(Number(target.port), target.hostname);
    const relay = { client, upstream };
    relays.add(relay);
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    for (const socket of [client, upstream]) {
      socket.on("error", () => upstream.destroy());
      socket.on("close", () => {
        relays.delete(relay);
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
      if (!value) cutAll();
    },
    setSilent(value) {
      if (value === silent) return;
      silent = value;
      if (value) {
        // Open connections stop relaying: a call already under way gets no answer either.
        for (const { client, upstream } of relays) {
          client.unpipe(upstream);
          upstream.unpipe(client);
        }
      } else {
        // What was left waiting is cut (its call fails now rather than at its timeout).
        cutAll();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        cutAll();
        server.close(() => resolve());
      }),
  };
}
