/**
 * The back-in-stock subscription domain (`subscription/index.ts`), exported both by name and as
 * the namespace `Subscription`. The namespace lives here, beside the folder, so the module never
 * imports itself.
 */
export * from "./subscription/index";
export * as Subscription from "./subscription/index";
