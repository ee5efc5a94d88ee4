#!/usr/bin/env node
// `npx donut-ops <command>`: the ops CLI as a command of its own. Unlike `npm run ops`, nothing
// but the CLI writes to stdout, so `npx donut-ops --json …` is one JSON document as it stands.
import { register } from "tsx/esm/api";

register();
await import("../src/cli.ts");
