/**
 * The order domain (`order/index.ts`), exported both by name and as the namespace `Order`.
 * The namespace lives here, beside the folder, so the module never imports itself.
 */
export * from "./order/index";
export * as Order from "./order/index";
