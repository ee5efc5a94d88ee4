import * as Subscription from "@donut-states/core/subscription";
import type { ScheduledHandler } from "aws-lambda";

/**
 * Cron: the periodic clean-ups. Expires back-in-stock subscriptions that waited too long, deletes
 * those that ended days ago, and forgets the addresses whose confirmation cool-down is over
 * (docs/design.md#back-in-stock). Each step is idempotent: an overlapping or repeated run finds
 * nothing more to do.
 */
export const handler: ScheduledHandler = async () => {
  await Subscription.housekeeping();
};
