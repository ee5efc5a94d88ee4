import { sessionDefaults } from "@donut-states/core/drizzle/session";
import { type FunctionEnvironment, functions } from "@donut-states/core/topology";
import { Script, type StackContext, use } from "sst/constructs";
import { appFunction, type DatabaseAccess, fromTopology, functionId } from "./app-function";
import { Config } from "./Config";
import { Duration, ec2, logs, RemovalPolicy, rds } from "./cdk";
import { cronFunction } from "./cron";

/**
 * The database of the stage.
 *
 * Deployed stages ("rds", see settings.ts): a VPC over 2 AZs (public subnets for the NAT
 * gateways, private subnets with egress for the functions, isolated subnets for the data),
 * RDS for MySQL 8.4 (encrypted, not publicly accessible, credentials generated into Secrets
 * Manager) and an RDS Proxy in front of it with TLS required. Lambda scales to hundreds of
 * containers in a flash crowd; the proxy multiplexes their connections onto a bounded pool, so
 * the database sees a steady number of connections. Security groups chain
 * functions -> proxy -> database on 3306 only. The functions need the NAT for the Factory API,
 * EventBridge, SNS, SSM and Secrets Manager.
 * Why an RDS instance and not Aurora Serverless v2: the proxy bills per vCPU of a provisioned
 * instance (2 vCPU minimum) but per ACU with an 8-ACU minimum on Serverless v2, and a
 * db.t4g instance is the cheapest always-on MySQL; the schema runs on both.
 *
 * `sst dev` stages ("url"): no VPC, no RDS (they take minutes and cost money per developer).
 * The functions run on the developer's machine and read the SST Secret DATABASE_URL.
 *
 * Upkeep: the housekeeping function (cron.ts, hourly) expires and deletes back-in-stock
 * subscriptions and forgets addresses as docs/design.md#back-in-stock says.
 *
 * Migrations: an SST Script runs packages/functions/src/database/migrate.handler on every
 * deploy (onCreate and onUpdate; drizzle's migrator skips applied migrations). Not under
 * `sst dev`, whose DATABASE_URL usually points at a database only the developer's machine
 * reaches: run `npm run db:migrate` there.
 */
export function Database({ stack, app }: StackContext) {
  const { settings, secrets } = use(Config);
  const poolSize = String(settings.lambdaDatabasePoolSize);

  if (settings.database === "url") {
    const databaseUrl = secrets.DATABASE_URL;
    if (!databaseUrl) throw new Error("DATABASE_URL secret missing for a url-mode stage");
    const access: DatabaseAccess = {
      mode: "url",
      environment: { DATABASE_POOL_SIZE: poolSize },
      secrets: [databaseUrl],
    };
    addMigrations(access);
    const housekeeping = addHousekeeping(access);
    return { access, vpc: undefined, instance: undefined, proxy: undefined, housekeeping };
  }

  const retention = settings.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

  const flowLogs = new logs.LogGroup(stack, "VpcFlowLogs", {
    retention: logs.RetentionDays[settings.logRetention.toUpperCase() as keyof typeof logs.RetentionDays],
  });
  const vpc = new ec2.Vpc(stack, "Vpc", {
    maxAzs: 2,
    natGateways: settings.vpc.natGateways,
    subnetConfiguration: [
      { name: "public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: "functions", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      { name: "data", subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
    ],
    // Rejected connections only: cheap, and the first place to look when a function times out.
    flowLogs: {
      rejected: { trafficType: ec2.FlowLogTrafficType.REJECT, destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs) },
    },
  });
  const functionSubnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  const dataSubnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

  const functionsSg = new ec2.SecurityGroup(stack, "FunctionsSecurityGroup", {
    vpc,
    description: "Lambda functions that use the database (egress: proxy, NAT)",
    // The Factory API's URL (and so its port) is configuration; AWS APIs are on 443.
    allowAllOutbound: true,
  });
  const proxySg = new ec2.SecurityGroup(stack, "ProxySecurityGroup", {
    vpc,
    description: "RDS Proxy: MySQL from the functions only",
    allowAllOutbound: false,
  });
  const databaseSg = new ec2.SecurityGroup(stack, "DatabaseSecurityGroup", {
    vpc,
    description: "RDS for MySQL: from the proxy only",
    allowAllOutbound: false,
  });
  proxySg.addIngressRule(functionsSg, ec2.Port.tcp(3306), "functions to proxy");
  // proxy -> database (egress on proxySg, ingress on databaseSg) is added by DatabaseProxy itself.
  // The proxy reads the credentials secret through the RDS service, not through its ENIs.

  const engine = rds.DatabaseInstanceEngine.mysql({
    // The major version only (aws-cdk-lib lists 8.4.3 to 8.4.6; RDS picks the default minor and
    // applies minor upgrades without drifting from the template). 8.0 left standard support on
    // 2026-07-31.
    version: rds.MysqlEngineVersion.of("8.4", "8.4"),
  });
  // Session defaults on the server, so the app sends no SET and the proxy never pins for them.
  const parameterGroup = new rds.ParameterGroup(stack, "MysqlParameters", {
    engine,
    description: "Donut-States: session defaults (UTC, READ COMMITTED) set by the server, not by the app",
    parameters: {
      time_zone: sessionDefaults.timeZone,
      transaction_isolation: sessionDefaults.transactionIsolation,
    },
  });
  const instance = new rds.DatabaseInstance(stack, "Mysql", {
    engine,
    parameterGroup,
    instanceType: ec2.InstanceType.of(
      ec2.InstanceClass.BURSTABLE4_GRAVITON,
      ec2.InstanceSize[settings.rds.instanceSize.toUpperCase() as "MICRO" | "SMALL" | "MEDIUM" | "LARGE"],
    ),
    vpc,
    vpcSubnets: dataSubnets,
    securityGroups: [databaseSg],
    publiclyAccessible: false,
    credentials: rds.Credentials.fromGeneratedSecret("donut_admin"),
    databaseName: settings.rds.databaseName,
    storageEncrypted: true,
    storageType: rds.StorageType.GP3,
    allocatedStorage: settings.rds.allocatedStorageGiB,
    maxAllocatedStorage: settings.rds.maxAllocatedStorageGiB,
    multiAz: settings.rds.multiAz,
    backupRetention: Duration.days(settings.rds.backupRetentionDays),
    copyTagsToSnapshot: true,
    autoMinorVersionUpgrade: true,
    deletionProtection: settings.rds.deletionProtection,
    removalPolicy: retention,
  });
  const credentials = instance.secret;
  if (!credentials) throw new Error("the generated database secret is missing");

  // Two database users, each with a generated secret that Secrets Manager rotates:
  // - the admin (master) user: migrations only (the Migrate function is the only one that reads
  //   its secret); single-user rotation, as nothing holds it for long.
  // - the application user: DML on the app's tables, EXECUTE on its procedures, made by the
  //   migrate function (packages/core/src/drizzle/app-user.ts). Every other function reads only
  //   this secret. Multi-user rotation: the secret alternates between the user and its `_clone`
  //   (created by the rotation with the same grants), so its current value is valid in the
  //   database at every moment of a rotation. A container whose new connection is refused with
  //   the credentials it read earlier (the proxy checks the secrets' current values) reads the
  //   secret again, once (packages/core/src/drizzle/index.ts, withCurrentCredentials).
  const rotationSchedule = Duration.days(settings.rds.credentialRotationDays);
  const rotationSubnets = functionSubnets; // the rotation functions reach Secrets Manager through the NAT
  instance.addRotationSingleUser({ automaticallyAfter: rotationSchedule, vpcSubnets: rotationSubnets });
  const applicationSecret = new rds.DatabaseSecret(stack, "ApplicationUserSecret", {
    username: settings.rds.applicationUser,
    masterSecret: credentials,
    dbname: settings.rds.databaseName,
  }).attach(instance);
  instance.addRotationMultiUser("ApplicationUserRotation", {
    secret: applicationSecret,
    automaticallyAfter: rotationSchedule,
    vpcSubnets: rotationSubnets,
  });

  const proxy = new rds.DatabaseProxy(stack, "Proxy", {
    dbProxyName: app.logicalPrefixedName("mysql-proxy"),
    proxyTarget: rds.ProxyTarget.fromInstance(instance),
    // The proxy authenticates clients against the users of these secrets and reads each again
    // after a rotation.
    secrets: [credentials, applicationSecret],
    vpc,
    vpcSubnets: dataSubnets,
    securityGroups: [proxySg],
    requireTLS: true,
    // MySQL 8.4's default plugin; the proxy supports it over TLS only (docs/deploy.md, "RDS Proxy and MySQL 8.4").
    clientPasswordAuthType: rds.ClientPasswordAuthType.MYSQL_CACHING_SHA2_PASSWORD,
    // Give up on a busy pool quickly: a client waiting long is worse than a 503 and a retry.
    borrowTimeout: Duration.seconds(10),
  });

  const access: DatabaseAccess = {
    mode: "rds",
    environment: {
      DATABASE_SECRET_ARN: applicationSecret.secretArn,
      DATABASE_HOST: proxy.endpoint,
      DATABASE_NAME: settings.rds.databaseName,
      DATABASE_TLS: "true",
      DATABASE_POOL_SIZE: poolSize,
    },
    secrets: [],
    vpc: { vpc, subnets: functionSubnets, securityGroups: [functionsSg] },
  };
  // Reading the secret each ARN names comes with reading the setting (grants.ts).
  const migrations = addMigrations(access, { DATABASE_ADMIN_SECRET_ARN: credentials.secretArn });
  // Migrate only once the proxy and its target exist.
  migrations?.node.addDependency(proxy);
  const housekeeping = addHousekeeping(access);

  stack.addOutputs({
    DatabaseSecretArn: applicationSecret.secretArn,
    DatabaseAdminSecretArn: credentials.secretArn,
    DatabaseProxyEndpoint: proxy.endpoint,
  });
  return { access, vpc, instance, proxy, housekeeping };

  /** The periodic clean-ups (expired subscriptions, addresses kept no longer than needed), hourly. */
  function addHousekeeping(access: DatabaseAccess) {
    return cronFunction(stack, "housekeeping", functions.housekeeping, settings, { database: access, secrets: {}, values: {} });
  }

  /** The migrate function; in "rds" stages it also reads the admin secret (`admin`), which no other function may. */
  function addMigrations(access: DatabaseAccess, admin?: FunctionEnvironment) {
    if (app.mode === "dev") return undefined;
    const migrate = appFunction(stack, functionId("migrate"), settings, {
      ...fromTopology(functions.migrate, {
        database: access,
        secrets: {},
        values: { MIGRATIONS_FOLDER: "migrations", SEED_DEMO_DATA: String(settings.seedDemoData), ...admin },
      }),
      enableLiveDev: false,
      copyFiles: [{ from: "packages/core/migrations", to: "migrations" }],
    });
    return new Script(stack, "Migrations", { onCreate: migrate, onUpdate: migrate });
  }
}
