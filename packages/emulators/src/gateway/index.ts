export { startGateway, type Gateway, type GatewayOptions } from "./server";
export { toApiGatewayEvent } from "./event";
export { createRouter } from "./router";
export { createIamVerifier, IAM_REFUSALS, type IamVerifier, type IamCredentials } from "./iam";
