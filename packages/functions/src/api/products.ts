import * as Product from "@donut-states/core/product";
import { apiHandler, json, pathParam } from "./http";

/** GET /products */
export const list = apiHandler(async () => json(200, { products: await Product.list() }));

/** GET /products/{sku} */
export const get = apiHandler(async (event) => {
  const sku = pathParam(event, "sku", Product.Sku);
  return json(200, { product: await Product.fromSku(sku) });
});
