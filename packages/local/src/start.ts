// Offline, CloudWatch metrics (EMF lines on stdout) would only be noise: off unless asked for.
// Set before the handlers are loaded, because Powertools reads it when they are.
process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
const { startOfflineStack } = await import("./stack");

export {};

/**
 * `npm start`: the whole system on this machine. Prints where everything is and a few curl
 * lines; Ctrl-C stops it cleanly (a private MariaDB, if one was started, keeps its data).
 */
const time = () => new Date().toISOString().slice(11, 23);
const log = (line: string) => console.log(`${time()} ${line}`);

async function main() {
  const stack = await startOfflineStack({}, log);
  const api = stack.apiUrl;
  console.log(
    [
      "",
      "Donut-States is running offline.",
      `  Sales API      ${api}`,
      `  Dashboard      ${stack.dashboardUrl}`,
      `  Factory API    ${stack.factoryUrl}${stack.factory ? "  (simulator; requests at /_sim/requests)" : ""}`,
      `  Database       ${stack.databaseSource}  ${new URL(stack.databaseUrl).host}${new URL(stack.databaseUrl).pathname}`,
      `  SQS/SNS        ${stack.sqsEndpoint}   EventBridge ${stack.eventBridgeEndpoint}`,
      `  Alert e-mail   ${stack.config.ALERT_EMAILS.join(", ")} -> ${stack.mailDir ? `files in ${stack.mailDir}` : stack.smtpUrl}`,
      "",
      "Try:",
      `  curl -s ${api}/products`,
      `  curl -s -X POST ${api}/orders -H 'content-type: application/json' -H 'Idempotency-Key: demo-1' -d '{"sku":"CP-502101","quantity":2}'`,
      `  curl -s ${api}/products/CP-502101`,
      "",
      "Ctrl-C to stop.",
      "",
    ].join("\n"),
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      console.log("Forced exit.");
      process.exit(1);
    }
    stopping = true;
    log(`${signal}: stopping...`);
    await stack.stop();
    log("stopped.");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((error) => {
  console.error(`\nCould not start Donut-States offline:\n${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
