export { startGateway, type Gateway } from "./server";
export { toApiGatewayEvent } from "./event";
export { createRouter } from "./router";
