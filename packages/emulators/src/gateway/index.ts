export { toApiGatewayEvent } from "./event";
export { createIamVerifier, IAM_REFUSALS, type IamCredentials, type IamVerifier } from "./iam";
export { createRouter } from "./router";
export { type Gateway, type GatewayOptions, startGateway } from "./server";
