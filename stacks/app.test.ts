/**
 * The SST app as a whole (sst.config.ts): its stacks, their outputs, what `sst remove` keeps,
 * and cdk-nag's AwsSolutions checks over every stack.
 */
import { describe, expect, it } from "vitest";
import { bothStages } from "./test/app";
import type { Json } from "./test/templates";

const stages = bothStages();
const { dev, prod } = stages;

describe.each(stages.each)("%s stage", (_name, get) => {
  it("registers the stacks in dependency order with the shared default function props", () => {
    const synth = get();
    expect(Object.keys(synth.templates).sort()).toEqual([
      "Alerts",
      "Api",
      "BackInStock",
      "Config",
      "Database",
      "Events",
      "Monitoring",
      "Restock",
    ]);
    expect(synth.sharesDefaultFunctionProps).toBe(true);
  });

  it("outputs what operators and the ops CLI need", () => {
    const synth = get();
    expect(Object.keys(synth.templates.Events.Outputs)).toEqual(
      expect.arrayContaining(["EventBusName", "FactoryQueueUrl", "FactoryDlqUrl"]),
    );
    expect(Object.keys(synth.templates.Alerts.Outputs)).toContain("AlertsTopicArn");
    expect(Object.keys(synth.templates.Api.Outputs)).toEqual(expect.arrayContaining(["ApiUrl", "ApiId"]));
  });
});

describe("dev stage (sst dev)", () => {
  it("deletes everything on sst remove", () => {
    for (const template of Object.values(dev().templates)) {
      for (const [id, resource] of Object.entries(template.Resources as Record<string, Json>)) {
        if (resource.Type === "AWS::SSM::Parameter") continue;
        expect(resource.DeletionPolicy ?? "Delete", id).toBe("Delete");
      }
    }
  });
});

describe("prod stage (sst deploy)", () => {
  it("retains every resource on sst remove", () => {
    for (const [stackId, template] of Object.entries(prod().templates)) {
      for (const [id, resource] of Object.entries(template.Resources as Record<string, Json>)) {
        // SST's binding parameters (/sst/<app>/<stage>/...) are recreated on every deploy.
        if (resource.Type === "AWS::SSM::Parameter") continue;
        expect(resource.DeletionPolicy, `${stackId}.${id}`).toBe("Retain");
      }
    }
  });

  it("passes cdk-nag's AwsSolutions checks, every exception suppressed with a reason", () => {
    const open = prod().nagFindings.filter((finding) => !finding.suppressed);
    expect(open.map((finding) => `${finding.ruleId} ${finding.path}: ${finding.info}`)).toEqual([]);
    const suppressed = prod().nagFindings.filter((finding) => finding.suppressed);
    expect(suppressed.length).toBeGreaterThan(0);
    for (const finding of suppressed) expect(finding.reason?.length ?? 0).toBeGreaterThan(40);
    // Nag really looked at our resources (it sees SST's aws-cdk-lib copy): the DB checks ran.
    expect(suppressed.map((finding) => finding.ruleId)).toEqual(expect.arrayContaining(["AwsSolutions-RDS11"]));
    // Both database secrets rotate: the secrets check has nothing to report, suppressed or not.
    expect(prod().nagFindings.filter((finding) => finding.ruleId === "AwsSolutions-SMG4")).toEqual([]);
  });
});
