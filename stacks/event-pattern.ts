import type { Cdk } from "./cdk";

/**
 * The topology writes patterns as EventBridge JSON ("detail-type"); CDK's EventPattern spells
 * that key detailType and renders it back to "detail-type". Every other key passes through as
 * is, so the rendered pattern equals the topology's (asserted by the stack tests).
 */
export function toCdkEventPattern(pattern: Readonly<Record<string, unknown>>): Cdk.aws_events.EventPattern {
  const { "detail-type": detailType, ...rest } = pattern;
  return { ...rest, ...(detailType === undefined ? {} : { detailType }) } as Cdk.aws_events.EventPattern;
}
