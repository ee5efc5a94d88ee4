export { ensureMysqlServer, ensureSessionDefaults, startPrivateMariadb, splitDatabaseUrl, withDatabase, canConnect, INSTALL_HINT, type MysqlServer } from "./server";
