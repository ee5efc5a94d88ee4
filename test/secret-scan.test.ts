import { logger } from "@donut-states/core/util/log";
import { describe, expect, it } from "vitest";
import { capturedOutput, leakedSecrets, secretsInEnvironment } from "./secret-scan-core";

/** test/secret-scan.ts, loaded into every test file, is what runs these on each file's output. */
describe("the scan of the test output for secrets", () => {
  it("sees what a test file writes: raw writes, console output and the handlers' JSON logs", () => {
    const marker = `marker-${Date.now()}`;
    process.stdout.write(`${marker}-stdout\n`);
    process.stderr.write(`${marker}-stderr\n`);
    console.log("%s-console", marker);
    logger.error(`${marker}-handler-log`);
    const output = capturedOutput();
    for (const where of ["stdout", "stderr", "console", "handler-log"]) expect(output).toContain(`${marker}-${where}`);
  });

  it("takes URL passwords and secret-named variables from the environment, not ARNs", () => {
    const found = secretsInEnvironment({
      DATABASE_URL: "mysql://app_1:p%40ss-word-1@127.0.0.1:3306/db",
      FACTORY_CALLBACK_SECRET: "callback-secret-0123456789",
      DATABASE_SECRET_ARN: "arn:aws:secretsmanager:ap-northeast-2:000000000000:secret:app",
      PUBLIC_API_URL: "http://127.0.0.1:3000",
      HOME: "/root",
    });
    expect(found).toEqual([
      { name: "DATABASE_URL (its password)", value: "p@ss-word-1" },
      { name: "FACTORY_CALLBACK_SECRET", value: "callback-secret-0123456789" },
    ]);
  });

  it("names the leaked secret and its line, masked", () => {
    const text = 'first line\n{"level":"ERROR","url":"mysql://app:p@ss-word-1@host/db"}\nlast\n';
    expect(
      leakedSecrets(text, [
        { name: "DATABASE_URL (its password)", value: "p@ss-word-1" },
        { name: "AWS_SECRET_ACCESS_KEY", value: "local" },
        { name: "FACTORY_CALLBACK_SECRET", value: "not-in-the-text-at-all" },
      ]),
    ).toEqual([{ name: "DATABASE_URL (its password)", where: '{"level":"ERROR","url":"mysql://app:****@host/db"}' }]);
  });
});
