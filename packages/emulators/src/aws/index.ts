export {
  type AlarmDefinition,
  type AlarmState,
  type AlarmStateChangeEvent,
  type DlqAlarm,
  type DlqAlarmOptions,
  startDlqAlarm,
  stateReason,
} from "./alarm";
export { alarmEmailText, asAlarmMessage, type CloudWatchAlarmMessage, regionName } from "./alarm-email";
export {
  CONFIRMATION_SUBJECT,
  confirmationText,
  type EmailSubscriptionFollower,
  type FollowEmailSubscriptionsOptions,
  type FollowedEmailSubscription,
  followEmailSubscriptions,
  unsubscribeUrl,
} from "./email-subscriptions";
export {
  createLocalClients,
  FAUXQS_ACCOUNT_ID,
  LOCAL_CREDENTIALS,
  type SqsSnsEmulator,
  type StartSqsSnsOptions,
  startSqsSns,
} from "./emulator";
export { ensureQueue, queueArn } from "./queues";
export {
  DEFAULT_SUBJECT,
  type EmailSubscriptions,
  type EmailSubscriptionsOptions,
  emailBody,
  startEmailSubscriptions,
} from "./sns-email-bridge";
