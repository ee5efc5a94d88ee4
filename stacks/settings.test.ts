/** Stage settings (settings.ts): what each stage deploys, and what deploying requires. */
import type { App } from "sst/constructs";
import { describe, expect, it } from "vitest";
import { APP_NAME, stageSettings } from "./settings";

describe("stage settings", () => {
  const app = (stage: string, mode: App["mode"]) => ({ stage, mode, name: APP_NAME }) as App;

  it("requires alert recipients and the Factory API URL to deploy any stage", () => {
    expect(() => stageSettings(app("prod", "deploy"), { FACTORY_API_URL: "https://f.example.com" })).toThrow(/ALERT_EMAILS is required/);
    expect(() => stageSettings(app("staging", "deploy"), { FACTORY_API_URL: "https://f.example.com" })).toThrow(
      /ALERT_EMAILS is required to deploy stage staging: .*\.env\.staging/,
    );
    expect(stageSettings(app("alice", "dev"), {}).alertEmails).toEqual([]);
    expect(() => stageSettings(app("prod", "deploy"), { ALERT_EMAILS: "a@example.com" })).toThrow(/FACTORY_API_URL is required/);
    expect(() =>
      stageSettings(app("prod", "deploy"), { ALERT_EMAILS: "not-an-address", FACTORY_API_URL: "https://f.example.com" }),
    ).toThrow(/not an e-mail address/);
    // `sst remove` must never be refused.
    expect(stageSettings(app("prod", "remove"), {}).alertEmails).toEqual([]);
  });

  it("uses RDS for deployed stages and the DATABASE_URL secret under sst dev, unless DATABASE_MODE says otherwise", () => {
    expect(stageSettings(app("alice", "dev"), {}).database).toBe("url");
    const deployable = { FACTORY_API_URL: "https://f.example.com", ALERT_EMAILS: "ops@example.com" };
    expect(stageSettings(app("staging", "deploy"), deployable).database).toBe("rds");
    expect(stageSettings(app("pr-42", "deploy"), { ...deployable, DATABASE_MODE: "url" }).database).toBe("url");
    expect(() => stageSettings(app("x", "dev"), { DATABASE_MODE: "sqlite" })).toThrow(/DATABASE_MODE/);
    expect(stageSettings(app("staging", "deploy"), deployable)).toMatchObject({
      retain: false,
      vpc: { natGateways: 1 },
      rds: { instanceSize: "micro", multiAz: false, deletionProtection: false },
      alertEmails: ["ops@example.com"],
    });
  });
});
