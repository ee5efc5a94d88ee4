import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type BusEventDefinition, type EventName, Events, parseBusEvent } from "@donut-states/core/event";
import { describe, expect, it } from "vitest";

/**
 * docs/events.md documents every event with an example as a consumer receives it. Each example
 * must be a valid event of its type: a valid envelope, its detail valid against the schema in
 * packages/core/src/event.ts, with every field of the schema and no other.
 */
const EVENTS_MD = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../docs/events.md"), "utf8");

/** The first ```json block under each `### Name` heading. */
function documentedExamples(): Map<string, unknown> {
  const examples = new Map<string, unknown>();
  for (const match of EVENTS_MD.matchAll(/^### (\w+)\n([\s\S]*?)(?=^##)/gm)) {
    const block = /```json\n([\s\S]*?)```/.exec(match[2]);
    if (block) examples.set(match[1], JSON.parse(block[1]));
  }
  return examples;
}

describe("docs/events.md", () => {
  const examples = documentedExamples();

  it("documents every event type, and only those", () => {
    expect([...examples.keys()].sort()).toEqual(Object.keys(Events).sort());
  });

  it.each(Object.keys(Events) as EventName[])("shows a valid, complete %s event", (name) => {
    const definition: BusEventDefinition = Events[name];
    const event = parseBusEvent(definition, examples.get(name));
    expect(Object.keys(event.detail as object).sort()).toEqual(Object.keys(Events[name].schema.shape).sort());
  });

  it("states the versioning rule and why orders are not on the bus", () => {
    expect(EVENTS_MD).toContain("## Versioning");
    expect(EVENTS_MD).toContain("## Why there is no per-order event");
  });
});
