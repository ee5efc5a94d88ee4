/**
 * The Database stack: nothing under `sst dev`; on deployed stages a private, encrypted MySQL
 * behind a TLS-only proxy, two rotated users, and the migrations run on every deploy.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { sessionDefaults } from "@donut-states/core/drizzle/session";
import { describe, expect, it } from "vitest";
import { APP_NAME } from "./settings";
import { bothStages } from "./test/app";
import { assetDir as assetDirOf } from "./test/assets";
import { allStatements, databaseSecretOf, functionFor, MIGRATE } from "./test/functions";
import { describeValue, type Json, resourcesOf, single } from "./test/templates";

const stages = bothStages();
const { dev, prod } = stages;

describe("dev stage (sst dev)", () => {
  it("creates no VPC, no RDS and no migration script", () => {
    for (const template of Object.values(dev().templates)) {
      const types = Object.values(template.Resources as Record<string, Json>).map((resource) => resource.Type);
      expect(types.filter((type) => /^AWS::(EC2|RDS)::/.test(type))).toEqual([]);
      expect(types).not.toContain("Custom::SSTScript");
      expect(types).not.toContain("AWS::SecretsManager::Secret");
    }
  });
});

describe("prod stage (sst deploy)", () => {
  const assetDir = (resource: Json) => assetDirOf(prod(), resource);

  it("bundles the migrations next to the migrate function and runs it on create and update", () => {
    const [, migrateId, fn] = functionFor(prod(), MIGRATE);
    expect(readdirSync(path.join(assetDir(fn), "migrations")).sort()).toEqual(readdirSync("packages/core/migrations").sort());
    expect(fn.Properties.Environment.Variables.MIGRATIONS_FOLDER).toBe("migrations");
    const [, script] = single(prod().templates.Database, "Custom::SSTScript");
    expect(script.Properties.UserCreateFunction).toEqual({ Ref: migrateId });
    expect(script.Properties.UserUpdateFunction).toEqual({ Ref: migrateId });
    expect(script.Properties.UserDeleteFunction).toBeUndefined();
    // It waits for the proxy and its target group.
    expect(script.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^ProxyProxyTargetGroup/)]));
  });

  it("keeps the database private, encrypted, behind a TLS-only proxy, and retained", () => {
    const database = prod().templates.Database;
    const [instanceId, instance] = single(database, "AWS::RDS::DBInstance");
    expect(instance.Properties).toMatchObject({
      Engine: "mysql",
      EngineVersion: "8.4",
      PubliclyAccessible: false,
      StorageEncrypted: true,
      DeletionProtection: true,
      MultiAZ: true,
      DBName: "donut_states",
    });
    expect(instance.DeletionPolicy).toBe("Retain");
    // Session defaults come from the parameter group, so the app sends no SET (no proxy pinning).
    const [groupId, group] = single(database, "AWS::RDS::DBParameterGroup");
    expect(instance.Properties.DBParameterGroupName).toEqual({ Ref: groupId });
    expect(group.Properties.Family).toBe("mysql8.4");
    expect(group.Properties.Parameters).toEqual({
      time_zone: sessionDefaults.timeZone,
      transaction_isolation: sessionDefaults.transactionIsolation,
    });
    expect(sessionDefaults).toEqual({ timeZone: "UTC", transactionIsolation: "READ-COMMITTED" });
    expect(instance.UpdateReplacePolicy).toBe("Retain");
    const [, proxy] = single(database, "AWS::RDS::DBProxy");
    expect(proxy.Properties).toMatchObject({ EngineFamily: "MYSQL", RequireTLS: true });
    expect(proxy.Properties.DBProxyName).toBe(`prod-${APP_NAME}-mysql-proxy`);
    const [, targets] = single(database, "AWS::RDS::DBProxyTargetGroup");
    expect(targets.Properties.DBInstanceIdentifiers).toEqual([{ Ref: instanceId }]);

    // Subnets: the database and the proxy in isolated subnets; 2 AZs; one NAT per AZ on prod.
    expect(resourcesOf(database, "AWS::EC2::VPC")).toHaveLength(1);
    expect(resourcesOf(database, "AWS::EC2::NatGateway")).toHaveLength(2);
    const [, subnetGroup] = single(database, "AWS::RDS::DBSubnetGroup");
    expect(subnetGroup.Properties.SubnetIds.map((subnet: Json) => subnet.Ref)).toEqual([
      expect.stringMatching(/^VpcdataSubnet1/),
      expect.stringMatching(/^VpcdataSubnet2/),
    ]);
    expect(proxy.Properties.VpcSubnetIds.map((subnet: Json) => subnet.Ref)).toEqual([
      expect.stringMatching(/^VpcdataSubnet1/),
      expect.stringMatching(/^VpcdataSubnet2/),
    ]);

    // Security groups chain functions -> proxy -> database; nothing else gets in.
    const groupOf = (value: Json) => value["Fn::GetAtt"][0].replace(/[0-9A-F]{8}$/, "");
    const ingress = resourcesOf(database, "AWS::EC2::SecurityGroupIngress").map(
      ([, rule]) => `${groupOf(rule.Properties.SourceSecurityGroupId)} -> ${groupOf(rule.Properties.GroupId)}`,
    );
    expect([...new Set(ingress)].sort()).toEqual([
      "FunctionsSecurityGroup -> ProxySecurityGroup",
      "MysqlApplicationUserRotationSecurityGroup -> DatabaseSecurityGroup",
      "MysqlRotationSingleUserSecurityGroup -> DatabaseSecurityGroup",
      "ProxySecurityGroup -> DatabaseSecurityGroup",
    ]);
    const databaseGroupId = resourcesOf(database, "AWS::EC2::SecurityGroup").find(([id]) => id.startsWith("DatabaseSecurityGroup"))![0];
    expect(instance.Properties.VPCSecurityGroups).toEqual([{ "Fn::GetAtt": [databaseGroupId, "GroupId"] }]);
    expect(JSON.stringify(database.Resources[databaseGroupId].Properties.SecurityGroupIngress ?? [])).toBe("[]");
  });

  it("rotates both database secrets, lets the proxy know both users, and keeps the admin secret to the migrate function", () => {
    const database = prod().templates.Database;
    const secretId = (user: "application" | "admin") => databaseSecretOf(prod(), user).replace(/^Database\./, "");
    const schedules = resourcesOf(database, "AWS::SecretsManager::RotationSchedule");
    expect(schedules.map(([, schedule]) => schedule.Properties.SecretId.Ref).sort()).toEqual(
      [secretId("admin"), secretId("application")].sort(),
    );
    for (const [, schedule] of schedules) expect(schedule.Properties.RotationRules).toEqual({ ScheduleExpression: "rate(30 days)" });
    // Which rotation: single user for the admin, alternating users (multi-user) for the application.
    const rotations = Object.fromEntries(
      resourcesOf(database, "AWS::Serverless::Application").map(([, application]) => {
        const [mapping] = application.Properties.Location.ApplicationId["Fn::FindInMap"];
        return [String(database.Mappings[mapping].aws.applicationId).split("/").pop(), application.Properties.Parameters];
      }),
    );
    expect(Object.keys(rotations).sort()).toEqual(["SecretsManagerRDSMySQLRotationMultiUser", "SecretsManagerRDSMySQLRotationSingleUser"]);
    // The multi-user rotation logs in as the admin to clone the application user.
    expect(describeValue(prod(), "Database", rotations.SecretsManagerRDSMySQLRotationMultiUser.masterSecretArn)).toBe(
      databaseSecretOf(prod(), "admin"),
    );
    // Both run where the functions run: private subnets with a NAT to reach Secrets Manager.
    for (const parameters of Object.values(rotations) as Json[]) {
      expect(JSON.stringify(parameters.vpcSubnetIds)).toMatch(/VpcfunctionsSubnet1Subnet.*VpcfunctionsSubnet2Subnet/);
    }

    const [applicationSecretId, applicationSecret] = resourcesOf(database, "AWS::SecretsManager::Secret").find(([id]) =>
      id.startsWith("ApplicationUserSecret"),
    )!;
    const template = JSON.parse(
      applicationSecret.Properties.GenerateSecretString.SecretStringTemplate["Fn::Join"][1]
        .map((part: Json) => (typeof part === "string" ? part : "MASTER"))
        .join(""),
    );
    expect(template).toEqual({ username: "donut_app", dbname: "donut_states", masterarn: "MASTER" });
    expect(`${template.username}_clone`.length).toBeLessThanOrEqual(16); // the multi-user rotation's limit
    expect(applicationSecretId).toBeTruthy();

    const [, proxy] = single(database, "AWS::RDS::DBProxy");
    expect(proxy.Properties.Auth.map((auth: Json) => auth.SecretArn.Ref).sort()).toEqual(
      [secretId("admin"), secretId("application")].sort(),
    );
    // Clients (mysql2, over the TLS the proxy requires) authenticate with caching_sha2_password,
    // MySQL 8.4's default plugin, for both users: docs/deploy.md, "RDS Proxy and MySQL 8.4".
    expect(proxy.Properties.Auth.map((auth: Json) => auth.ClientPasswordAuthType)).toEqual([
      "MYSQL_CACHING_SHA2_PASSWORD",
      "MYSQL_CACHING_SHA2_PASSWORD",
    ]);

    // Only the migrate function may read the admin secret (statements of every function: above).
    const readers = allStatements(prod())
      .filter(({ statement }) => JSON.stringify(statement.Resource ?? "").includes(secretId("admin")))
      .map(({ stackId, policy }) => `${stackId}.${policy.replace(/[0-9A-F]{8}$/, "")}`);
    expect(readers.sort()).toEqual(expect.arrayContaining(["Database.MigrateRoleDefaultPolicy"]));
    expect(readers.filter((reader) => !/Migrate|Proxy|Rotation/.test(reader))).toEqual([]);
  });
});
