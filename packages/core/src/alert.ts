/**
 * The alert domain (`alert/index.ts`), exported both by name and as the namespace `Alert`.
 * The namespace lives here, beside the folder, so the module never imports itself.
 */
export * from "./alert/index";
export * as Alert from "./alert/index";
