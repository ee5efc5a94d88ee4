/** Small node:http helpers; kept separate so simulator.ts reads as routing only. */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";

export interface ReadBody {
  /** UTF-8 text of at most `limit` bytes. */
  text: string;
  bytes: number;
  tooLarge: boolean;
}

// Past the limit we keep draining (so the client can read our 400 instead of
// getting a reset mid-upload), but only up to this much before giving up.
const DRAIN_CAP_BYTES = 1024 * 1024;

export class BodyAbortedError extends Error {}

export async function readBody(req: IncomingMessage, limit: number): Promise<ReadBody> {
  const kept: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes <= limit) kept.push(chunk);
    if (bytes > DRAIN_CAP_BYTES) {
      req.destroy();
      throw new BodyAbortedError(`request body exceeded ${DRAIN_CAP_BYTES} bytes; connection dropped`);
    }
  }
  return { text: Buffer.concat(kept).toString("utf8"), bytes, tooLarge: bytes > limit };
}

/** application/json with optional parameters (e.g. "; charset=utf-8"). */
export function isJsonContentType(header: string | undefined): boolean {
  return header?.split(";")[0].trim().toLowerCase() === "application/json";
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(payload),
  });
  res.end(payload);
}

export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { "content-length": 0 });
  res.end();
}

/** JSON.parse as a result value, so handlers can branch instead of try/catch. */
export function tryParseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
