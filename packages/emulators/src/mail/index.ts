export { createMailer, DEFAULT_FROM, type Mailer, type MailToSend } from "./mailer";
export { type MailboxEntry, readMailbox, type SmtpSink, type SmtpSinkOptions, startSmtpSink } from "./smtp-sink";
