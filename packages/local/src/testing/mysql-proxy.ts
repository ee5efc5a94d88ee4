import type { AddressInfo } from "node:net";
import net from "node:net";

export interface MysqlProxy {
  /** The proxy's own address: `mysql://…@127.0.0.1:<port>/…` for a URL pointing at the target. */
  port: number;
  /** Client commands seen since start or the last `resetCount()`: one per database round trip. */
  readonly commands: number;
  /** The start of each SQL text sent (COM_QUERY) since then, up to 1,000 of them. */
  readonly statements: readonly string[];
  /** Server-side prepared statements (COM_STMT_PREPARE) since then. */
  readonly prepares: number;
  /** The longest client command since then, in bytes. */
  readonly longestCommand: number;
  resetCount(): void;
  /**
   * Fault: the server's answer to the next command is dropped and that client connection cut,
   * as when a network or the proxy fails after the database did the work ("outcome unknown").
   */
  loseNextAnswer(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a MySQL server that counts round trips and can add network latency.
 *
 * - Counting: a MySQL client starts every command (COM_QUERY, COM_STMT_EXECUTE, COM_QUIT …) with
 *   a packet whose sequence id is 0, and waits for the answer before the next one (no
 *   pipelining in mysql2), so packets with sequence id 0 from the client = round trips.
 * - Latency: `delayMs` holds every chunk the server sends for that long before passing it on,
 *   in order, so each round trip takes `delayMs` longer (the whole RTT, on one leg).
 */
export async function startMysqlProxy({
  targetHost = "127.0.0.1",
  targetPort,
  delayMs = 0,
  onStatement,
}: {
  targetHost?: string;
  targetPort: number;
  delayMs?: number;
  /** Called with the whole SQL text of every COM_QUERY the clients send, as the server receives it. */
  onStatement?: (sql: string) => void;
}): Promise<MysqlProxy> {
  let commands = 0;
  let statements: string[] = [];
  let prepares = 0;
  let longestCommand = 0;
  let loseArmed = false;
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    client.setNoDelay(true);
    const upstream = net.connect({ host: targetHost, port: targetPort });
    upstream.setNoDelay(true);
    sockets.add(client).add(upstream);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", closeBoth).on("close", closeBoth);
    upstream.on("error", closeBoth).on("close", closeBoth);

    // Client -> server: pass through, counting packet headers with sequence id 0.
    let losing = false;
    let pending = Buffer.alloc(0);
    let skip = 0; // bytes of the current packet's payload still to pass
    // The SQL text of the COM_QUERY being passed (onStatement only), as its bytes go by.
    let statement: Buffer[] | undefined;
    const keep = (bytes: Buffer) => {
      if (!statement) return;
      statement.push(Buffer.from(bytes));
      if (bytes.length === skip) {
        onStatement?.(Buffer.concat(statement).toString("utf8"));
        statement = undefined;
      }
    };
    client.on("data", (chunk: Buffer) => {
      upstream.write(chunk);
      let data = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      for (;;) {
        if (skip >= data.length) {
          keep(data);
          skip -= data.length;
          data = Buffer.alloc(0);
          break;
        }
        keep(data.subarray(0, skip));
        data = data.subarray(skip);
        skip = 0;
        if (data.length < 4) break;
        const length = data.readUIntLE(0, 3);
        if (data[3] === 0) {
          commands++;
          longestCommand = Math.max(longestCommand, length);
          if (loseArmed) [loseArmed, losing] = [false, true];
          // COM_QUERY (0x03): keep the start of its text (the rest may be in a later chunk).
          if (data[4] === 0x03 && statements.length < 1000)
            statements.push(data.subarray(5, Math.min(4 + length, 5 + 200)).toString("utf8"));
          if (data[4] === 0x16) prepares++;
          if (data[4] === 0x03 && onStatement && data.length >= 5) {
            // Its payload after the command byte is the SQL text.
            statement = [];
            skip = length - 1;
            data = data.subarray(5);
            if (skip === 0) keep(Buffer.alloc(0));
            continue;
          }
        }
        skip = length;
        data = data.subarray(4);
      }
      pending = Buffer.from(data);
    });

    // Server -> client: straight through, or delayed (order kept: one timer drains a FIFO).
    const queue: Array<{ due: number; chunk: Buffer }> = [];
    let drainScheduled = false;
    const scheduleDrain = (ms: number) => {
      drainScheduled = true;
      setTimeout(drain, ms);
    };
    const drain = () => {
      drainScheduled = false;
      const now = performance.now();
      while (queue.length && queue[0].due <= now) client.write(queue.shift()!.chunk);
      if (queue.length) scheduleDrain(Math.max(0, queue[0].due - now));
    };
    upstream.on("data", (chunk: Buffer) => {
      if (losing) return closeBoth();
      if (delayMs <= 0) {
        client.write(chunk);
        return;
      }
      queue.push({ due: performance.now() + delayMs, chunk });
      if (!drainScheduled) scheduleDrain(delayMs);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    get commands() {
      return commands;
    },
    get statements() {
      return statements;
    },
    get prepares() {
      return prepares;
    },
    get longestCommand() {
      return longestCommand;
    },
    resetCount: () => {
      commands = 0;
      statements = [];
      prepares = 0;
      longestCommand = 0;
    },
    loseNextAnswer: () => {
      loseArmed = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
