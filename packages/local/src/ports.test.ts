import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createTestDatabase, type TestDatabase } from "@donut-states/core/testing";
import { startSqsSns } from "@donut-states/emulators/aws";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FREE_PORTS } from "./config";
import { startOfflineStack } from "./stack";

/** Busy ports: every listen error of the offline stack names the variable that moves it. */

let database: TestDatabase;
let localDir: string;
let busy: net.Server;
let busyPort: number;

beforeAll(async () => {
  database = await createTestDatabase("ports");
  localDir = await mkdtemp(path.join(os.tmpdir(), "donut-ports-"));
  busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
  busyPort = (busy.address() as net.AddressInfo).port;
});

afterAll(async () => {
  busy?.close();
  await database?.drop();
  if (localDir) await rm(localDir, { recursive: true, force: true });
});

// A stack that got as far as its functions' configuration wrote it to process.env (as the stacks
// would set a Lambda's environment, FACTORY_API_URL included): start each test from the original.
const originalEnv = { ...process.env };
afterEach(() => {
  for (const key of Object.keys(process.env)) if (!(key in originalEnv)) delete process.env[key];
  Object.assign(process.env, originalEnv);
});

const start = (overrides: Record<string, unknown>) =>
  startOfflineStack({
    databaseUrl: database.url,
    ...FREE_PORTS,
    LOCAL_DIR: localDir,
    SEED_DEMO_DATA: "false",
    factoryOptions: { port: 0 },
    ...overrides,
  });

describe("a port already in use", () => {
  for (const variable of ["PORT", "DASHBOARD_PORT", "SQS_PORT", "EVENTBRIDGE_PORT", "SMTP_PORT"] as const) {
    it(`names ${variable}`, async () => {
      const failure = await start({ [variable]: busyPort }).then(
        async (stack) => {
          await stack.stop();
          return undefined;
        },
        (error: Error) => error,
      );
      expect(failure?.message).toBe(
        `${variable}: 127.0.0.1:${busyPort} is already in use (another \`npm start\`, or another program); ` +
          `stop what holds it, or set ${variable} to a free port (0 = any free port).`,
      );
    });
  }

  it("names FACTORY_PORT for the factory simulator", async () => {
    const failure = await start({ factoryOptions: { port: busyPort } }).then(
      async (stack) => {
        await stack.stop();
        return undefined;
      },
      (error: Error) => error,
    );
    expect(failure?.message).toMatch(new RegExp(`^FACTORY_PORT: 127\\.0\\.0\\.1:${busyPort} is already in use`));
  });
});

/** A port free right now: listened on, then closed. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const canListen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });

describe("a start that fails at its last step", () => {
  it("stops every step started before it: their ports are free again", async () => {
    const ports = { PORT: await freePort(), SQS_PORT: await freePort(), EVENTBRIDGE_PORT: await freePort(), SMTP_PORT: await freePort() };
    const factoryPort = await freePort();
    const failure = await start({ ...ports, DASHBOARD_PORT: busyPort, factoryOptions: { port: factoryPort } }).then(
      async (stack) => {
        await stack.stop();
        return undefined;
      },
      (error: Error) => error,
    );
    expect(failure?.message).toMatch(/^DASHBOARD_PORT: /);
    for (const port of [...Object.values(ports), factoryPort]) expect({ port, free: await canListen(port) }).toEqual({ port, free: true });
  });
});

describe("the SQS/SNS emulator", () => {
  it("listens on the address it is given, not on every interface", async () => {
    // 127.0.0.2 is loopback too on Linux: reachable there, refused on 127.0.0.1.
    const emulator = await startSqsSns({ port: 0, host: "127.0.0.2", region: "ap-northeast-2" });
    try {
      expect(emulator.endpoint).toBe(`http://127.0.0.2:${emulator.port}`);
      const reach = (host: string) =>
        new Promise<boolean>((resolve) => {
          const socket = net.connect(emulator.port, host);
          socket.once("connect", () => {
            socket.destroy();
            resolve(true);
          });
          socket.once("error", () => resolve(false));
        });
      expect(await reach("127.0.0.2")).toBe(true);
      expect(await reach("127.0.0.1")).toBe(false);
    } finally {
      await emulator.close();
    }
  });
});
