/**
 * The legacy Factory API's contract (docs/design.md §3), core's one home for it: the request the
 * factory caller sends (`ManufactureRequest`, built by `Restock.requestFromFactory` and sent by
 * `Factory.requestProduction`) and the callback the factory sends back (`FactoryCallback`,
 * parsed by the callback route).
 *
 * The simulator (packages/factory/src/contract.ts) keeps its own copy on purpose: it stands in
 * for a system another team owns, so it is written from the contract, not from our reading of
 * it, and catches a mistake here instead of repeating it. test/contract/factory.test.ts checks
 * that the two agree.
 */
import * as z from "../util/zod";

/** Where requests go, under the factory's base URL. */
export const MANUFACTURE_PATH = "/api/manufactures";

/** The fixed MessageGroupId the legacy API expects for stock arrivals. */
export const MESSAGE_GROUP_ID = "stock-arrival-group";

/** The request's fields, in contract order; the callback echoes them. */
export const MANUFACTURE_FIELDS = [
  "MessageGroupId",
  "MessageAttributeProductId",
  "MessageAttributeProductCnt",
  "MessageAttributeFactoryId",
  "MessageAttributeRequester",
  "CallbackUrl",
] as const;
export type ManufactureField = (typeof MANUFACTURE_FIELDS)[number];

/** The legacy Factory API's request body. Every value is a string; the API is strict about that. */
export type ManufactureRequest = Record<ManufactureField, string>;

/**
 * What the legacy factory POSTs to CallbackUrl: the fields we sent, echoed, all strings. The SKU
 * and the count are what a callback is checked against; the rest may be missing. Keyed by
 * `ManufactureField`, so a field renamed in the contract fails to type-check here.
 */
export const FactoryCallback = z.looseObject({
  MessageAttributeProductId: z.string({ error: "MessageAttributeProductId must be a string" }).check(z.minLength(1), z.maxLength(64)),
  MessageAttributeProductCnt: z
    .string({ error: "MessageAttributeProductCnt must be a string" })
    .check(z.regex(/^[1-9][0-9]{0,8}$/, "MessageAttributeProductCnt must be a positive whole number as a string")),
  MessageAttributeFactoryId: z.optional(z.string().check(z.maxLength(32))),
  MessageGroupId: z.optional(z.string().check(z.maxLength(128))),
  MessageAttributeRequester: z.optional(z.string().check(z.maxLength(256))),
  CallbackUrl: z.optional(z.string().check(z.maxLength(4096))),
} satisfies Record<ManufactureField, z.ZodMiniType>);
export type FactoryCallback = z.infer<typeof FactoryCallback>;
