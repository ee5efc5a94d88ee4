export { ensureMysqlServer, startPrivateMariadb, splitDatabaseUrl, canConnect, INSTALL_HINT, type MysqlServer, type ServerRequirements } from "./server";
