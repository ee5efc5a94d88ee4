/**
 * No test secret in the logs the tests write. Loaded into every test file (vitest.config.ts,
 * `setupFiles`). "The logs the tests write" are the run's output: everything a test file's
 * process writes to stdout and stderr (the handlers' JSON logs, which Powertools writes straight
 * to stdout as it does in Lambda; the offline stack's lines) and its console output, as the
 * terminal or CI shows them. Once the file's tests are done, that output must contain none of
 * the secrets the file had in its environment while its tests ran: passwords in URLs
 * (`DATABASE_URL` holds the application user's) and variables named like a secret or a password
 * (`FACTORY_CALLBACK_SECRET`). A hit fails the file, naming the variable, never the value.
 */
import { afterAll, afterEach, beforeEach } from "vitest";
import { capturedOutput, installCapture, leakedSecrets, type NamedSecret, secretsInEnvironment, startFile } from "./secret-scan-core";

installCapture();
startFile();
const secrets = new Map<string, NamedSecret>();
const remember = () => {
  for (const secret of secretsInEnvironment(process.env)) secrets.set(`${secret.name}\n${secret.value}`, secret);
};
beforeEach(remember);
afterEach(remember);
afterAll(() => {
  remember();
  const leaks = leakedSecrets(capturedOutput(), [...secrets.values()]);
  if (leaks.length > 0) {
    throw new Error(`test secrets were written to the test output: ${leaks.map((leak) => `${leak.name} in: ${leak.where}`).join("; ")}`);
  }
});
