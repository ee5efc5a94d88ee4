import { sql } from "drizzle-orm";
import type { Database } from "./index";
import { factoryTable } from "../factory/factory.sql";
import { productTable } from "../product/product.sql";

export const DEMO_FACTORIES = [
  { id: "FF-500293", name: "부산도너츠 공장", managerEmail: "factory-manager@donut-states.local" },
  { id: "FF-500301", name: "Seoul Glaze Works", managerEmail: "glaze-works@donut-states.local" },
];

export const DEMO_PRODUCTS = [
  { sku: "CP-502101", name: "부산도너츠", price: 19900, stock: 100, factoryId: "FF-500293", restockQuantity: 100 },
  { sku: "CP-502102", name: "Honey Glazed", price: 2500, stock: 50, factoryId: "FF-500293", restockQuantity: 60 },
  { sku: "CP-502103", name: "Matcha Cream", price: 3200, stock: 20, factoryId: "FF-500301", restockQuantity: 40 },
  { sku: "CP-502104", name: "Injeolmi Twist", price: 2800, stock: 5, factoryId: "FF-500301", restockQuantity: 30 },
];

/**
 * Insert the demo catalogue if it is missing. Existing rows are left alone, so restarting
 * `npm start` keeps the stock you have been playing with.
 */
export async function seedDemoData(db: Database): Promise<void> {
  await db
    .insert(factoryTable)
    .values(DEMO_FACTORIES)
    .onDuplicateKeyUpdate({ set: { id: sql`id` } });
  await db
    .insert(productTable)
    .values(DEMO_PRODUCTS)
    .onDuplicateKeyUpdate({ set: { sku: sql`sku` } });
}
