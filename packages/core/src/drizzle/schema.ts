// Every table, for drizzle-kit and for the typed client.
export * from "../factory/factory.sql";
export * from "../order/order.sql";
export * from "../outbox/outbox.sql";
export * from "../product/product.sql";
export * from "../restock/restock.sql";
export * from "../subscription/subscription.sql";
