/**
 * The restock domain (`restock/index.ts`), exported both by name and as the namespace `Restock`.
 * The namespace lives here, beside the folder, so the module never imports itself.
 */
export * from "./restock/index";
export * as Restock from "./restock/index";
