export { type SwitchableProxy, startSwitchableProxy } from "@donut-states/emulators/testing";
