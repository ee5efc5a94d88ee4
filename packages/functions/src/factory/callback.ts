import * as Factory from "@donut-states/core/factory";
import * as Restock from "@donut-states/core/restock";
import { AppError } from "@donut-states/core/util/error";
import { apiHandler, json, parseJsonBody } from "../api/http";

/**
 * POST /factory/callbacks/{restockId}?attempt=...&token=...  (the legacy factory, when production is done)
 *
 * The token is checked before anything else, so without it nobody learns whether a restock id
 * exists. A valid, matching callback adds the stock once; repeats answer 200 and change nothing.
 */
export const handler = apiHandler(async (event) => {
  const restockId = event.pathParameters?.restockId ?? "";
  const token = event.queryStringParameters?.token;
  if (!token) throw new AppError(401, "TOKEN_REQUIRED", "This callback URL needs its token query parameter");
  // Which factory call this callback answers; URLs from before attempts were recorded have none.
  const rawAttempt = event.queryStringParameters?.attempt;
  const attempt = rawAttempt === undefined ? undefined : /^[1-9][0-9]{0,5}$/.test(rawAttempt) ? Number(rawAttempt) : Number.NaN;
  // The current secret, or the previous one while it is being rotated (docs/runbook.md).
  if (Number.isNaN(attempt) || !(await Restock.isAuthenticCallback(restockId, token, attempt))) {
    throw new AppError(403, "TOKEN_INVALID", "The callback token is not valid for this restock request");
  }
  // A valid token for a non-ULID id can only come from our own signing, but validate anyway.
  if (!Restock.RestockId.safeParse(restockId).success) {
    throw new AppError(404, "RESTOCK_NOT_FOUND", `No restock request ${restockId}`);
  }
  const callback = parseJsonBody(event, Factory.FactoryCallback);
  const result = await Restock.fulfil(restockId, callback, attempt);
  return json(200, result);
});
