export { createMailer, type Mailer } from "./mailer";
export { readMailbox, startSmtpSink, type MailboxEntry, type SmtpSink } from "./smtp-sink";
