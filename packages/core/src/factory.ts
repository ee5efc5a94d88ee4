/**
 * The factory domain (`factory/index.ts`), exported both by name and as the namespace `Factory`.
 * The namespace lives here, beside the folder, so the module never imports itself.
 */
export * from "./factory/index";
export * as Factory from "./factory/index";
