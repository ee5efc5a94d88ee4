/**
 * Reading synthesized CloudFormation templates: plain JSON helpers, so a test file that only reads
 * templates does not load SST or the CDK (seconds per file).
 */

export const TEST_ACCOUNT = "123456789012";

// biome-ignore lint/suspicious/noExplicitAny: a CloudFormation template's JSON, read by tests as they need.
export type Json = any;

/** [logicalId, resource] of every resource of `type` in a template. */
export function resourcesOf(template: Json, type: string): [string, Json][] {
  return Object.entries(template.Resources ?? {}).filter(([, resource]) => (resource as Json).Type === type) as [string, Json][];
}

/** The only resource of `type` in a template (fails otherwise). */
export function single(template: Json, type: string): [string, Json] {
  const found = resourcesOf(template, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0];
}

/**
 * A readable, stack-qualified description of a CloudFormation value, following cross-stack
 * imports to what they export: {"Fn::ImportValue": "prod-donut-states-Events:ExportsOutputFnGetAttBus…"}
 * becomes "Events.BusEventBus016AB1B4.Arn"; {"Ref": "Topic…"} in Alerts becomes "Alerts.Topic…".
 */
export function describeValue(synth: { templates: Record<string, Json> }, stackId: string, value: Json): string {
  if (typeof value === "string" || typeof value === "number") return String(value);
  if (Array.isArray(value)) return value.map((item) => describeValue(synth, stackId, item)).join(" + ");
  if (value && typeof value === "object") {
    if ("Fn::ImportValue" in value) {
      const name = value["Fn::ImportValue"];
      for (const [id, template] of Object.entries(synth.templates)) {
        for (const output of Object.values(template.Outputs ?? {}) as Json[]) {
          if (output.Export?.Name === name) return describeValue(synth, id, output.Value);
        }
      }
      throw new Error(`no stack exports ${name}`);
    }
    if ("Ref" in value) return String(value.Ref).startsWith("AWS::") ? `\${${value.Ref}}` : `${stackId}.${value.Ref}`;
    if ("Fn::GetAtt" in value) return `${stackId}.${value["Fn::GetAtt"].join(".")}`;
    if ("Fn::Join" in value) {
      const [separator, parts] = value["Fn::Join"];
      return parts.map((part: Json) => describeValue(synth, stackId, part)).join(separator);
    }
  }
  return JSON.stringify(value);
}
