/**
 * The outbox domain (`outbox/index.ts`), exported both by name and as the namespace `Outbox`.
 * The namespace lives here, beside the folder, so the module never imports itself.
 */
export * from "./outbox/index";
export * as Outbox from "./outbox/index";
