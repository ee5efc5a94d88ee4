import * as Product from "@donut-states/core/product";
import * as Restock from "@donut-states/core/restock";
import * as z from "@donut-states/core/util/zod";
import { json, pathParam, queryParam } from "../api/http";
import { adminHandler, caller, limitParam } from "./http";

const Status = z.optional(z.enum(Restock.RESTOCK_STATUSES, { error: `status must be one of ${Restock.RESTOCK_STATUSES.join(", ")}` }));

/** GET /admin/restocks?status=failed&limit=50: newest first. */
export const list = adminHandler(async (event) => {
  const status = queryParam(event, "status", Status);
  const limit = limitParam(event, 50);
  return json(200, { restockRequests: await Restock.list({ status, limit }) });
});

/** POST /admin/restocks/{restockId}/re-request: back to pending with a fresh OutOfStock event. */
export const reRequest = adminHandler(async (event) => {
  const restockId = pathParam(event, "restockId", Restock.RestockId);
  const { who } = caller(event);
  const result = await Restock.reRequest(restockId);
  return json(200, { restock: result, who });
});

/** POST /admin/products/{sku}/restock: open a request for a product sold out with none open. */
export const open = adminHandler(async (event) => {
  const sku = pathParam(event, "sku", Product.Sku);
  caller(event);
  const result = await Restock.openFor(sku);
  return json(result.opened ? 201 : 200, { restock: result });
});
