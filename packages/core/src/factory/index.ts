import { eq } from "drizzle-orm";
import type { Executor } from "../drizzle";
import { optionalEnv } from "../util/config";
import { MANUFACTURE_PATH, type ManufactureRequest } from "./contract";
import { factoryTable } from "./factory.sql";

export {
  FactoryCallback,
  MANUFACTURE_FIELDS,
  MANUFACTURE_PATH,
  type ManufactureField,
  type ManufactureRequest,
  MESSAGE_GROUP_ID,
} from "./contract";
export { factoryTable };

export class FactoryCallError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    /** No answer within the timeout: the factory may or may not have taken the request. */
    readonly timedOut = false,
  ) {
    super(message);
    this.name = "FactoryCallError";
  }
}

/** A factory's API base URL: its own row if set, else the stage's FACTORY_API_URL. */
export async function apiUrlOf(db: Executor, factoryId: string): Promise<string> {
  const [row] = await db.select({ apiUrl: factoryTable.apiUrl }).from(factoryTable).where(eq(factoryTable.id, factoryId));
  const url = row?.apiUrl ?? optionalEnv("FACTORY_API_URL");
  if (!url) throw new FactoryCallError(`No API URL for factory ${factoryId}: set factory.api_url or FACTORY_API_URL`);
  return url;
}

/**
 * POST {apiUrl}/api/manufactures (MANUFACTURE_PATH). Any 2xx is "accepted" (no body is promised). Anything else,
 * a network error or no answer within `timeoutMs`, throws FactoryCallError.
 */
export async function requestProduction(
  apiUrl: string,
  body: ManufactureRequest,
  timeoutMs: number,
): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  const url = new URL(MANUFACTURE_PATH.slice(1), apiUrl.endsWith("/") ? apiUrl : `${apiUrl}/`);
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const timedOut = (error as Error).name === "TimeoutError";
    const reason = timedOut ? `no answer within ${timeoutMs} ms` : (error as Error).message;
    throw new FactoryCallError(`Factory API ${url.host} failed: ${reason}`, undefined, timedOut);
  }
  const text = await response.text().catch(() => "");
  if (response.status < 200 || response.status > 299) {
    throw new FactoryCallError(`Factory API answered ${response.status}: ${text.slice(0, 200)}`, response.status);
  }
  return { status: response.status, ms: Date.now() - started };
}
