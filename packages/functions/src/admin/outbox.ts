import * as Outbox from "@donut-states/core/outbox";
import { json } from "../api/http";
import { adminHandler, caller, limitParam } from "./http";

/** GET /admin/outbox?limit=100: events committed but not yet on the bus, oldest first. */
export const summary = adminHandler(async (event) => {
  caller(event);
  return json(200, { outbox: await Outbox.summary({ limit: limitParam(event, 100) }) });
});
