export { ensureMysqlServer, startPrivateMariadb, withDatabase, type MysqlServer } from "@donut-states/emulators/mysql";
