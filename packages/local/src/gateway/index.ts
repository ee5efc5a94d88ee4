export { startGateway, type Gateway } from "@donut-states/emulators/gateway";
