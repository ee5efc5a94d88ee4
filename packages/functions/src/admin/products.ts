import * as Product from "@donut-states/core/product";
import { json, parseJsonBody, pathParam } from "../api/http";
import { adminHandler, caller } from "./http";

/** GET /admin/products: stock, reorder point, restock quantity and open restock request of every product. */
export const list = adminHandler(async () => json(200, { products: await Product.stockLevels() }));

/** POST /admin/products  body { sku, name, price, factoryId, restockQuantity?, reorderPoint?, stock? } */
export const create = adminHandler(async (event) => {
  const input = parseJsonBody(event, Product.NewProduct);
  return json(201, { product: await Product.create(input, caller(event)) });
});

/** PATCH /admin/products/{sku}  body: any of { name, price, factoryId, restockQuantity, reorderPoint } */
export const update = adminHandler(async (event) => {
  const sku = pathParam(event, "sku", Product.Sku);
  const changes = parseJsonBody(event, Product.ProductChanges);
  return json(200, { product: await Product.update(sku, changes, caller(event)) });
});
