/**
 * The single source of truth for the event-driven topology, one file per concern.
 *
 * `stacks/` (AWS, via SST) and `packages/local` (the offline stack) both read these values, so a
 * change here changes the CloudFormation template and the local runtime together. Nothing else
 * may hard-code a queue setting, a rule pattern, an alarm's name or threshold, a route, a setting
 * name or what a function may do.
 */

export * from "./alarms";
export * from "./events";
export * from "./functions";
export * from "./messaging";
export * from "./offline";
export * from "./settings";
