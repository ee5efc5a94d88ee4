export { ensureMysqlServer, startPrivateMariadb, splitDatabaseUrl, withDatabase, canConnect, INSTALL_HINT, type MysqlServer } from "./server";
