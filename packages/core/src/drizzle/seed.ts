import { eq, inArray, sql } from "drizzle-orm";
import { factoryTable } from "../factory/factory.sql";
import * as Order from "../order";
import { productTable } from "../product/product.sql";
import * as Restock from "../restock";
import { type Database, transaction } from "./index";

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

export interface DemoReset {
  products: Array<{ sku: string; stock: number }>;
  removed: { orders: number; restockRequests: number };
}

/**
 * Put the demo catalogue back as a fresh start seeds it (`npm run demo:reset`): the demo
 * products get their original name, price, stock and restock settings, and lose their orders
 * and restock requests, so a walkthrough starts from the same state every time. Products
 * outside the demo catalogue are not touched.
 */
export async function resetDemoData(db: Database): Promise<DemoReset> {
  return transaction(
    async (tx) => {
      await tx
        .insert(factoryTable)
        .values(DEMO_FACTORIES)
        .onDuplicateKeyUpdate({ set: { id: sql`id` } });
      const demo = await tx
        .select({ id: productTable.id })
        .from(productTable)
        .where(
          inArray(
            productTable.sku,
            DEMO_PRODUCTS.map((product) => product.sku),
          ),
        )
        .for("update");
      const ids = demo.map((product) => product.id);
      const orders = await Order.removeForProducts(tx, ids);
      const restockRequests = await Restock.removeForProducts(tx, ids);
      await tx
        .insert(productTable)
        .values(DEMO_PRODUCTS)
        .onDuplicateKeyUpdate({ set: { sku: sql`sku` } });
      for (const { sku, ...product } of DEMO_PRODUCTS) {
        await tx
          .update(productTable)
          .set({ ...product, reorderPoint: 0 })
          .where(eq(productTable.sku, sku));
      }
      return {
        products: DEMO_PRODUCTS.map(({ sku, stock }) => ({ sku, stock })),
        removed: { orders, restockRequests },
      };
    },
    { db },
  );
}
