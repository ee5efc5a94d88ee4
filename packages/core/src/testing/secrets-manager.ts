import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Secrets Manager's GetSecretValue, for tests of what reads a secret (the database credentials of
 * deployed stages): the real SDK client reaches it through AWS_ENDPOINT_URL_SECRETS_MANAGER. A
 * test changes a value with `put`, as a rotation does, and sees how often it was read.
 */
export interface SecretsManagerStandIn {
  url: string;
  /** Set (or replace) a secret's current value; returns its ARN. */
  put(name: string, value: unknown): string;
  /** GetSecretValue calls answered so far, per secret name. */
  reads(name: string): number;
  close(): Promise<void>;
}

const JSON_1_1 = "application/x-amz-json-1.1";

export async function startSecretsManager({ region = "ap-northeast-2", accountId = "000000000000" } = {}): Promise<SecretsManagerStandIn> {
  const secrets = new Map<string, { arn: string; value: string; versionId: string }>();
  const readCounts = new Map<string, number>();
  const arnOf = (name: string) => `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}`;
  const byId = (id: string) => [...secrets.entries()].find(([name, secret]) => name === id || secret.arn === id);

  const answer = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { "content-type": JSON_1_1 }).end(JSON.stringify(body));
  };
  const server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    let raw = "";
    for await (const chunk of request) raw += chunk;
    const target = String(request.headers["x-amz-target"] ?? "");
    if (target !== "secretsmanager.GetSecretValue") {
      return answer(response, 400, { __type: "InvalidRequestException", message: `${target || "this operation"} is not implemented here` });
    }
    const { SecretId } = JSON.parse(raw || "{}") as { SecretId?: string };
    const found = SecretId ? byId(SecretId) : undefined;
    if (!found)
      return answer(response, 400, { __type: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." });
    const [name, secret] = found;
    readCounts.set(name, (readCounts.get(name) ?? 0) + 1);
    answer(response, 200, {
      ARN: secret.arn,
      Name: name,
      SecretString: secret.value,
      VersionId: secret.versionId,
      VersionStages: ["AWSCURRENT"],
      CreatedDate: Date.now() / 1000,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    put(name, value) {
      const arn = arnOf(name);
      secrets.set(name, { arn, value: typeof value === "string" ? value : JSON.stringify(value), versionId: randomUUID() });
      return arn;
    },
    reads: (name) => readCounts.get(name) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
