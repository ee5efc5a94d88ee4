/**
 * The product domain (`product/index.ts`), exported both by name and as the namespace `Product`.
 * The namespace lives here, beside the folder, so the module never imports itself.
 */
export * from "./product/index";
export * as Product from "./product/index";
