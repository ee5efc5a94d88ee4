import { describe, expect, it } from "vitest";
import { beyond, grantsFor, privilegesFor, statementsOfBody, unionOf } from "./sql-privileges";

describe("the privileges a statement needs", () => {
  it("reads, locks, writes and deletes as MySQL counts them", () => {
    expect(
      grantsFor(["select `product`.`id` from `product` left join `restock_request` on `restock_request`.`product_id` = `product`.`id`"]),
    ).toEqual({
      product: ["SELECT"],
      restock_request: ["SELECT"],
    });
    expect(grantsFor(["select `id` from `outbox` where `published_at` is null limit 10 for update skip locked"])).toEqual({
      outbox: ["SELECT", "UPDATE"],
    });
    expect(grantsFor(["insert into `factory` (`id`) values ('F-1') on duplicate key update `id` = id"])).toEqual({
      factory: ["INSERT", "UPDATE"],
    });
    expect(grantsFor(["update `product` set `stock` = `stock` + 3 where `product`.`id` = 7"])).toEqual({ product: ["SELECT", "UPDATE"] });
    expect(grantsFor(["delete from `restock_alert` where `restock_id` in (select `id` from `restock_request` where `sku` = 'X')"])).toEqual(
      {
        restock_alert: ["SELECT", "DELETE"],
        restock_request: ["SELECT"],
      },
    );
    expect(privilegesFor("begin")).toEqual([]);
    expect(privilegesFor("commit")).toEqual([]);
  });

  it("never reads a value as SQL: a name that says 'from orders' reads nothing", () => {
    expect(grantsFor(["insert into `product` (`name`) values ('straight from orders, -- joined')"])).toEqual({ product: ["INSERT"] });
  });

  it("counts an invoker procedure's statements as the caller's, a definer's not", () => {
    const body = `BEGIN
      DECLARE v INT;
      IF p THEN
        SELECT stock FROM product WHERE sku = p_sku FOR UPDATE INTO v;
      END IF;
      INSERT INTO orders (id) VALUES (p_id);
      SET v = 1;
    END`;
    expect(statementsOfBody(body)).toHaveLength(2);
    expect(grantsFor(["CALL place_order('A', 1)"], { place_order: { invoker: true, body } })).toEqual({
      orders: ["INSERT"],
      place_order: ["EXECUTE"],
      product: ["SELECT", "UPDATE"],
    });
    expect(grantsFor(["CALL place_order('A', 1)"], { place_order: { invoker: false, body } })).toEqual({ place_order: ["EXECUTE"] });
  });

  it("refuses to guess: a statement of another kind throws", () => {
    expect(() => privilegesFor("SET time_zone = '+00:00'")).toThrow(/cannot tell which privileges/);
  });

  it("compares and merges grant tables", () => {
    const granted = { product: ["SELECT", "INSERT", "UPDATE", "DELETE"] as const };
    expect(beyond({ product: ["SELECT"], orders: ["INSERT"] }, { product: [...granted.product] })).toEqual({ orders: ["INSERT"] });
    expect(unionOf({ product: ["UPDATE"] }, { product: ["SELECT"], orders: ["INSERT"] })).toEqual({
      orders: ["INSERT"],
      product: ["SELECT", "UPDATE"],
    });
  });
});
