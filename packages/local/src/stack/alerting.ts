import path from "node:path";
import { backInStockTopic, dlqAlarm } from "@donut-states/core/topology";
import {
  type DlqAlarm,
  type EmailSubscriptionFollower,
  followEmailSubscriptions,
  startDlqAlarm,
  startEmailSubscriptions,
} from "@donut-states/emulators/aws";
import { createMailer, startSmtpSink } from "@donut-states/emulators/mail";
import { busRules } from "../aws/topology";
import type { OfflineConfig } from "../config";
import { listeningOn } from "../ports";
import type { Messaging } from "./messaging";
import { type Log, type Step, step } from "./step";

export interface Alerting {
  alarm: DlqAlarm;
  /** The back-in-stock topic's e-mail subscriptions, as delivered offline. */
  backInStockMail: EmailSubscriptionFollower;
  smtpUrl: string;
  /** Where the built-in SMTP sink saves mails; unset when SMTP_URL sends them elsewhere. */
  mailDir?: string;
}

/** E-mail: the SMTP sink (or a real server), SNS e-mail subscriptions (operations' and customers'), the DLQ alarm. */
export function startAlerting(config: OfflineConfig, { aws, topology, eventBridge }: Messaging, log: Log): Promise<Step<Alerting>> {
  return step(log, async (onStop) => {
    const host = config.HOST;
    const mailDir = config.MAIL_DIR ?? path.join(config.LOCAL_DIR, "mail");
    let smtpUrl = config.SMTP_URL;
    let sinkDir: string | undefined;
    if (!smtpUrl) {
      const sink = await listeningOn("SMTP_PORT", { host, port: config.SMTP_PORT }, () =>
        startSmtpSink({ port: config.SMTP_PORT, host, dir: mailDir, log: (line) => log(`[mail] ${line}`) }),
      );
      onStop(() => sink.close());
      smtpUrl = sink.url;
      sinkDir = mailDir;
    }
    const mailer = createMailer({ smtpUrl });
    onStop(() => mailer.close());
    const subscriptions = await startEmailSubscriptions({
      sns: aws.sns,
      sqs: aws.sqs,
      topicArn: topology.alertsTopicArn,
      emails: config.ALERT_EMAILS,
      mailer,
      retryAfterSeconds: 5,
      log: (line) => log(`[sns] ${line}`),
    });
    onStop(() => subscriptions.stop());
    // Customers' back-in-stock subscriptions are made while the stack runs (the subscription
    // route): each is confirmed (its confirmation mail in the log) and gets what its filter
    // policy lets through, from the topic's display name as SNS sends it.
    const backInStockMailer = createMailer({ smtpUrl, from: `${backInStockTopic.displayName} <no-reply@sns.amazonaws.com>` });
    onStop(() => backInStockMailer.close());
    const backInStockMail = followEmailSubscriptions({
      sns: aws.sns,
      sqs: aws.sqs,
      topicArn: topology.backInStockTopicArn,
      mailer: backInStockMailer,
      retryAfterSeconds: 5,
      log: (line) => log(`[sns] ${line}`),
    });
    onStop(() => backInStockMail.stop());
    const alarm = startDlqAlarm({
      sqs: aws.sqs,
      sns: aws.sns,
      queueUrl: topology.dlqUrl,
      queueName: topology.dlqName,
      topicArn: topology.alertsTopicArn,
      alarm: dlqAlarm,
      description: `Messages in dead-letter queue ${topology.dlqName}: restock requests failed repeatedly and need an operator.`,
      intervalMs: config.ALARM_INTERVAL_MS,
      region: config.AWS_REGION,
      onStateChange: (event) => eventBridge.putServiceEvent(event),
      log: (line) => log(`[alarm] ${line}`),
    });
    onStop(() => alarm.stop());
    // Each bus rule's failed-events queue has its alarm too, e-mailing operations the same way.
    for (const rule of busRules) {
      const failedEvents = startDlqAlarm({
        sqs: aws.sqs,
        sns: aws.sns,
        queueUrl: topology.failedEventsQueueUrls[rule.name],
        queueName: rule.failedEvents.queueName,
        topicArn: topology.alertsTopicArn,
        alarm: rule.failedEvents.alarm,
        description: `Events of rule ${rule.name} wait in ${rule.failedEvents.queueName}: its function failed on them after Lambda's retries. Runbook: docs/runbook.md#back-in-stock-failed-events`,
        intervalMs: config.ALARM_INTERVAL_MS,
        region: config.AWS_REGION,
        onStateChange: (event) => eventBridge.putServiceEvent(event),
        log: (line) => log(`[alarm] ${line}`),
      });
      onStop(() => failedEvents.stop());
    }
    return { alarm, backInStockMail, smtpUrl, mailDir: sinkDir };
  });
}
