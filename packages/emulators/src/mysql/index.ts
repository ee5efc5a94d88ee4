export {
  canConnect,
  ensureMysqlServer,
  INSTALL_HINT,
  type MysqlServer,
  type ServerRequirements,
  splitDatabaseUrl,
  startPrivateMariadb,
} from "./server";
