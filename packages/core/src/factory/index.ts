export * as Factory from "./index";

export { factoryTable } from "./factory.sql";
