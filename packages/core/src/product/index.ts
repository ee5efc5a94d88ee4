import { asc, desc, eq } from "drizzle-orm";
import { type Executor, isDuplicateKey, query, transaction } from "../drizzle";
import { factoryTable } from "../factory/factory.sql";
import { type RestockStatus, restockRequestTable } from "../restock/restock.sql";
import { AppError, NotFoundError } from "../util/error";
import { newId } from "../util/id";
import { logger } from "../util/log";
import * as z from "../util/zod";
import { productTable, stockChangeTable } from "./product.sql";

export { productTable, stockChangeTable };

/** SKUs look like CP-502101; anything else is rejected before it reaches SQL. */
export const Sku = z
  .string({ error: "sku must be a string" })
  .check(
    z.minLength(1, "sku must not be empty"),
    z.maxLength(64, "sku must be at most 64 characters"),
    z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "sku may contain only letters, digits, '.', '_' and '-'"),
  );

export interface ProductView {
  sku: string;
  name: string;
  price: number;
  stock: number;
}

const columns = {
  sku: productTable.sku,
  name: productTable.name,
  price: productTable.price,
  stock: productTable.stock,
};

export async function list(): Promise<ProductView[]> {
  return query((db) => db.select(columns).from(productTable).orderBy(asc(productTable.sku)));
}

export async function fromSku(sku: string): Promise<ProductView> {
  const [row] = await query((db) => db.select(columns).from(productTable).where(eq(productTable.sku, sku)));
  if (!row) throw new NotFoundError("PRODUCT_NOT_FOUND", `No product has SKU ${sku}`, { sku });
  return row;
}

/** A product as another domain refers to it: its id, the catalogue's spelling of its SKU, its name. */
export interface ProductRef {
  id: number;
  sku: string;
  name: string;
}

/** The product a SKU names, in any letter case; 404 PRODUCT_NOT_FOUND if none. */
export async function refOf(sku: string): Promise<ProductRef> {
  const [row] = await query((db) =>
    db.select({ id: productTable.id, sku: productTable.sku, name: productTable.name }).from(productTable).where(eq(productTable.sku, sku)),
  );
  if (!row) throw new NotFoundError("PRODUCT_NOT_FOUND", `No product has SKU ${sku}`, { sku });
  return row;
}

export interface StockLevel {
  sku: string;
  name: string;
  stock: number;
  reorderPoint: number;
  restockQuantity: number;
  /** The product's open restock request (pending, requested or failed), if any. */
  restock: { id: string; status: RestockStatus } | null;
}

/** Stock per product with its open restock request: what operations look at first. */
export async function stockLevels(executor?: Executor): Promise<StockLevel[]> {
  const rows = await query((db) =>
    (executor ?? db)
      .select({
        sku: productTable.sku,
        name: productTable.name,
        stock: productTable.stock,
        reorderPoint: productTable.reorderPoint,
        restockQuantity: productTable.restockQuantity,
        restockId: restockRequestTable.id,
        restockStatus: restockRequestTable.status,
      })
      .from(productTable)
      .leftJoin(restockRequestTable, eq(restockRequestTable.openProductId, productTable.id))
      .orderBy(asc(productTable.sku)),
  );
  return rows.map(({ restockId, restockStatus, ...row }) => ({
    ...row,
    restock: restockId && restockStatus ? { id: restockId, status: restockStatus } : null,
  }));
}

/** INT UNSIGNED: the largest stock, price or quantity a column holds. */
export const MAX_UNSIGNED_INT = 4_294_967_295;

const wholeNumber = (field: string, min: number) =>
  z
    .number({ error: `${field} must be a number` })
    .check(
      z.int(`${field} must be a whole number`),
      z.gte(min, `${field} must be between ${min} and ${MAX_UNSIGNED_INT}`),
      z.lte(MAX_UNSIGNED_INT, `${field} must be between ${min} and ${MAX_UNSIGNED_INT}`),
    );

export const StockLevelInput = wholeNumber("stock", 0);
export const Name = z
  .string({ error: "name must be a string" })
  .check(
    z.minLength(1, "name must not be empty"),
    z.maxLength(200, "name must be at most 200 characters"),
    z.regex(/\S/, "name must not be blank"),
  );
export const FactoryId = z
  .string({ error: "factoryId must be a string" })
  .check(
    z.minLength(1, "factoryId must not be empty"),
    z.maxLength(32, "factoryId must be at most 32 characters"),
    z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "factoryId may contain only letters, digits, '.', '_' and '-'"),
  );
/** Why a stock level was set by hand: kept with the change. */
export const Reason = z
  .string({ error: "reason must be a string" })
  .check(
    z.minLength(1, "reason must not be empty"),
    z.maxLength(500, "reason must be at most 500 characters"),
    z.regex(/\S/, "reason must not be blank"),
  );

const unknownFields = {
  error: (issue: { code?: string; keys?: string[] }) =>
    issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys?.join(", ")}` : undefined,
};

/** A product for the catalogue. Stock starts at `stock` (default 0), recorded as a stock change. */
export const NewProduct = z.strictObject(
  {
    sku: Sku,
    name: Name,
    price: wholeNumber("price", 0),
    factoryId: FactoryId,
    restockQuantity: z.optional(wholeNumber("restockQuantity", 1)),
    reorderPoint: z.optional(wholeNumber("reorderPoint", 0)),
    stock: z.optional(StockLevelInput),
  },
  unknownFields,
);
export type NewProduct = z.infer<typeof NewProduct>;

/** What an operator may change of a product (stock has its own audited path: `setStock`). */
export const ProductChanges = z
  .strictObject(
    {
      name: z.optional(Name),
      price: z.optional(wholeNumber("price", 0)),
      factoryId: z.optional(FactoryId),
      restockQuantity: z.optional(wholeNumber("restockQuantity", 1)),
      reorderPoint: z.optional(wholeNumber("reorderPoint", 0)),
    },
    unknownFields,
  )
  .check(
    z.refine(
      (changes) => Object.values(changes).some((value) => value !== undefined),
      "give at least one of name, price, factoryId, restockQuantity, reorderPoint",
    ),
  );
export type ProductChanges = z.infer<typeof ProductChanges>;

export const StockChangeInput = z.strictObject(
  {
    stock: StockLevelInput,
    reason: Reason,
    /** The level the operator saw: the change is refused (409) unless the stock is still that. */
    expect: z.optional(wholeNumber("expect", 0)),
  },
  unknownFields,
);
export type StockChangeInput = z.infer<typeof StockChangeInput>;

/** A product as operators manage it. */
export interface ProductDetails extends ProductView {
  factoryId: string;
  restockQuantity: number;
  reorderPoint: number;
}

const detailColumns = {
  ...columns,
  factoryId: productTable.factoryId,
  restockQuantity: productTable.restockQuantity,
  reorderPoint: productTable.reorderPoint,
};

export class ProductExistsError extends AppError {
  constructor(sku: string) {
    super(409, "PRODUCT_EXISTS", `A product with SKU ${sku} already exists; change it with an update instead`, { sku });
  }
}

/** `setStock` with `expect`: the stock moved since the operator looked (a sale, another count). */
export class StockNotAsExpectedError extends AppError {
  constructor(sku: string, stock: number, expected: number) {
    super(409, "STOCK_NOT_AS_EXPECTED", `${sku} has ${stock} in stock, not the ${expected} expected: nothing was changed`, {
      sku,
      stock,
      expected,
    });
  }
}

export class UnknownFactoryError extends AppError {
  constructor(factoryId: string) {
    super(422, "UNKNOWN_FACTORY", `No factory ${factoryId}; a product must name a factory that exists`, { factoryId });
  }
}

/** Who changed something and why, as recorded with the change. */
export interface Actor {
  /** An IAM principal ARN (admin API), or `local:<user>` offline. */
  who: string;
}

async function requireFactory(executor: Executor, factoryId: string): Promise<void> {
  const [factory] = await executor.select({ id: factoryTable.id }).from(factoryTable).where(eq(factoryTable.id, factoryId));
  if (!factory) throw new UnknownFactoryError(factoryId);
}

async function detailsOf(executor: Executor, sku: string): Promise<ProductDetails> {
  const [row] = await executor.select(detailColumns).from(productTable).where(eq(productTable.sku, sku));
  if (!row) throw new NotFoundError("PRODUCT_NOT_FOUND", `No product has SKU ${sku}`, { sku });
  return row;
}

/** Add a product to the catalogue. Its initial stock, if any, is recorded as a stock change. */
export async function create(input: NewProduct, actor: Actor): Promise<ProductDetails> {
  return transaction(async (tx) => {
    await requireFactory(tx, input.factoryId);
    const { stock = 0, ...product } = input;
    let id: number;
    try {
      const [result] = await tx.insert(productTable).values({ ...product, stock });
      id = result.insertId;
    } catch (error) {
      if (isDuplicateKey(error, "product_sku_unique")) throw new ProductExistsError(input.sku);
      throw error;
    }
    const created = await detailsOf(tx, input.sku);
    if (stock > 0) await recordStockChange(tx, { id, sku: created.sku }, 0, stock, actor, "initial stock of a new product");
    logger.info("product created", { sku: created.sku, who: actor.who });
    return created;
  });
}

/** Change a product's name, price, factory or restock settings. An open restock request keeps its quantity. */
export async function update(sku: string, changes: ProductChanges, actor: Actor): Promise<ProductDetails> {
  return transaction(async (tx) => {
    const [product] = await tx
      .select({ id: productTable.id, sku: productTable.sku })
      .from(productTable)
      .where(eq(productTable.sku, sku))
      .for("update");
    if (!product) throw new NotFoundError("PRODUCT_NOT_FOUND", `No product has SKU ${sku}`, { sku });
    if (changes.factoryId !== undefined) await requireFactory(tx, changes.factoryId);
    const set = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
    await tx.update(productTable).set(set).where(eq(productTable.id, product.id));
    logger.info("product updated", { sku: product.sku, who: actor.who, changed: Object.keys(set) });
    return detailsOf(tx, product.sku);
  });
}

export interface StockChange {
  id: string;
  sku: string;
  previous: number;
  stock: number;
  who: string;
  reason: string;
  changedAt: string;
}

async function recordStockChange(
  tx: Executor,
  product: { id: number; sku: string },
  previous: number,
  stock: number,
  actor: Actor,
  reason: string,
): Promise<StockChange> {
  const change = {
    id: newId(),
    productId: product.id,
    sku: product.sku,
    previousStock: previous,
    newStock: stock,
    actor: actor.who,
    reason,
    changedAt: new Date(),
  };
  await tx.insert(stockChangeTable).values(change);
  return { id: change.id, sku: product.sku, previous, stock, who: actor.who, reason, changedAt: change.changedAt.toISOString() };
}

/**
 * Set a product's stock to an absolute level (a stock count, a correction), recorded with who,
 * when, the level it replaced and why, in the same transaction. The row is locked, so the
 * recorded previous level is the one replaced. Does not open or close restock requests: orders
 * do that as they see the new level.
 */
export async function setStock(sku: string, { stock, reason, expect }: StockChangeInput, actor: Actor): Promise<StockChange> {
  return transaction(async (tx) => {
    const [product] = await tx
      .select({ id: productTable.id, sku: productTable.sku, stock: productTable.stock })
      .from(productTable)
      .where(eq(productTable.sku, sku))
      .for("update");
    if (!product) throw new NotFoundError("PRODUCT_NOT_FOUND", `No product has SKU ${sku}`, { sku });
    // Compared under the row's lock: a sale that committed since the operator looked is seen here.
    if (expect !== undefined && product.stock !== expect) throw new StockNotAsExpectedError(product.sku, product.stock, expect);
    await tx.update(productTable).set({ stock }).where(eq(productTable.id, product.id));
    const change = await recordStockChange(tx, product, product.stock, stock, actor, reason);
    logger.info("stock set by hand", { sku: product.sku, previous: product.stock, stock, who: actor.who, reason });
    return change;
  });
}

/** The stock changes made by hand to a product, newest first. */
export async function stockChanges(sku: string, limit = 20): Promise<StockChange[]> {
  // Through the product's id: the (product_id, changed_at) index serves it.
  const rows = await query((db) =>
    db
      .select({ change: stockChangeTable })
      .from(stockChangeTable)
      .innerJoin(productTable, eq(productTable.id, stockChangeTable.productId))
      .where(eq(productTable.sku, sku))
      .orderBy(desc(stockChangeTable.changedAt), desc(stockChangeTable.id))
      .limit(limit),
  );
  return rows.map(({ change: row }) => ({
    id: row.id,
    sku: row.sku,
    previous: row.previousStock,
    stock: row.newStock,
    who: row.actor,
    reason: row.reason,
    changedAt: row.changedAt.toISOString(),
  }));
}
