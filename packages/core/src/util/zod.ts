/**
 * zod for every schema of the project: `zod/mini`, the tree-shakable build, so a function
 * bundle carries only the schema types and checks it uses (see docs/deploy.md, "Bundles").
 * Import it as a namespace (`import * as z from "../util/zod"`): a named `z` object would
 * keep all of zod. zod/mini has no default locale; this sets classic zod's English messages.
 */
import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());

export * from "zod/mini";
