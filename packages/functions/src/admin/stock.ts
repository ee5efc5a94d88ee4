import * as Product from "@donut-states/core/product";
import { json, parseJsonBody, pathParam } from "../api/http";
import { adminHandler, caller, limitParam } from "./http";

/** PUT /admin/products/{sku}/stock  body { stock, reason, expect? }: audited (who, when, old -> new, why); 409 when the stock is not `expect`. */
export const set = adminHandler(async (event) => {
  const sku = pathParam(event, "sku", Product.Sku);
  const input = parseJsonBody(event, Product.StockChangeInput);
  return json(200, { change: await Product.setStock(sku, input, caller(event)) });
});

/** GET /admin/products/{sku}/stock?limit=n: the product's stock level and its changes by hand, newest first. */
export const history = adminHandler(async (event) => {
  const sku = pathParam(event, "sku", Product.Sku);
  const limit = limitParam(event, 20, 200);
  caller(event);
  const product = await Product.fromSku(sku);
  return json(200, { sku: product.sku, stock: product.stock, changes: await Product.stockChanges(product.sku, limit) });
});
