/**
 * The emulators' MySQL bootstrap with what Donut-States needs of every server: sessions default to
 * UTC and READ COMMITTED, as the RDS parameter group sets them, since the app sends no SET of its
 * own (a private mariadbd gets them as options, a server found is checked or set at start-up).
 */

import { sessionDefaultServerOptions } from "@donut-states/core/drizzle/session";
import {
  ensureMysqlServer as ensureServer,
  type MysqlServer,
  type ServerRequirements,
  startPrivateMariadb as startPrivate,
} from "@donut-states/emulators/mysql";
import { ensureSessionDefaults } from "./session-defaults";

const REQUIREMENTS: ServerRequirements = { serverOptions: sessionDefaultServerOptions, prepare: ensureSessionDefaults };

export function ensureMysqlServer(options: { privateDataDir?: string; log?: (line: string) => void } = {}): Promise<MysqlServer> {
  return ensureServer({ ...options, ...REQUIREMENTS });
}

export function startPrivateMariadb(options: Omit<Parameters<typeof startPrivate>[0], "serverOptions">) {
  return startPrivate({ ...options, serverOptions: REQUIREMENTS.serverOptions });
}

export { withDatabase } from "@donut-states/core/util/url";
export type { MysqlServer };
export { ensureSessionDefaults };
