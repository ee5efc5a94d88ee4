export { FAUXQS_ACCOUNT_ID, LOCAL_CREDENTIALS, createLocalClients, startSqsSns, type SqsSnsEmulator, type StartSqsSnsOptions } from "./emulator";
export { ensureQueue, queueArn } from "./queues";
export { startDlqAlarm, stateReason, type AlarmDefinition, type AlarmState, type AlarmStateChangeEvent, type DlqAlarm, type DlqAlarmOptions } from "./alarm";
export { alarmEmailText, asAlarmMessage, regionName, type CloudWatchAlarmMessage } from "./alarm-email";
export { DEFAULT_SUBJECT, emailBody, startEmailSubscriptions, type EmailSubscriptions, type EmailSubscriptionsOptions } from "./sns-email-bridge";
export { CONFIRMATION_SUBJECT, confirmationText, followEmailSubscriptions, unsubscribeUrl, type EmailSubscriptionFollower, type FollowEmailSubscriptionsOptions, type FollowedEmailSubscription } from "./email-subscriptions";
