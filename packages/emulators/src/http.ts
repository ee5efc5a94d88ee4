/** What the local AWS endpoints share: reading a request, answering in AWS's JSON shapes, listening. */

import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** An error answer of an AWS JSON API: its name (the SDK's error class), message and HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  { contentType = "application/json", headers = {} }: { contentType?: string; headers?: Record<string, string> } = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(payload),
    "x-amzn-requestid": randomUUID(),
    ...headers,
  });
  res.end(payload);
}

/**
 * AWS's JSON error shape (JSON 1.1 and REST-JSON alike): the SDK reads the error's name from the
 * x-amzn-ErrorType header (or `__type`) and its text from `message`.
 */
export function sendError(res: ServerResponse, error: ApiError, contentType?: string): void {
  sendJson(res, error.status, { __type: error.type, message: error.message }, { contentType, headers: { "x-amzn-errortype": error.type } });
}

/** Listens on host:port (0 = any free port); resolves with the port, rejects on a listen error. */
export async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Where a client on this machine reaches a server listening on `host` (a wildcard means loopback). */
export function connectableHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
