import { mysqlTable, varchar } from "drizzle-orm/mysql-core";
import { createdAt } from "../util/sql";

/** A legacy factory that produces donuts for some products. */
export const factoryTable = mysqlTable("factory", {
  /** The factory's own identifier, e.g. FF-500293; sent as MessageAttributeFactoryId. */
  id: varchar("id", { length: 32 }).primaryKey(),
  name: varchar("name", { length: 200 }).notNull(),
  managerEmail: varchar("manager_email", { length: 320 }).notNull(),
  /** Base URL of its legacy Factory API; null means "use the stage's FACTORY_API_URL". */
  apiUrl: varchar("api_url", { length: 2048 }),
  createdAt: createdAt(),
});
