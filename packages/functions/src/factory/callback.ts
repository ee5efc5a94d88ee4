import * as Factory from "@donut-states/core/factory";
import * as Restock from "@donut-states/core/restock";
import { AppError } from "@donut-states/core/util/error";
import { apiHandler, json, parseJsonBody, queryParam } from "../api/http";

/**
 * POST /factory/callbacks/{restockId}?attempt=...&token=...  (the legacy factory, when production is done)
 *
 * The token is checked before anything is read, so without it nobody learns whether a restock id
 * exists. A valid, matching callback adds the stock once; repeats answer 200 and change nothing.
 */
export const handler = apiHandler(async (event) => {
  const restockId = event.pathParameters?.restockId ?? "";
  const token = event.queryStringParameters?.token;
  if (!token) throw new AppError(401, "TOKEN_REQUIRED", "This callback URL needs its token query parameter");
  // Which factory call this callback answers: every URL we hand out names it, and its token signs it.
  const attempt = queryParam(event, "attempt", Restock.CallbackAttempt);
  // The current secret, or the previous one while it is being rotated (docs/runbook.md).
  if (!(await Restock.isAuthenticCallback(restockId, token, attempt))) {
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
