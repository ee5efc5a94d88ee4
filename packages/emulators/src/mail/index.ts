export { DEFAULT_FROM, createMailer, type Mailer, type MailToSend } from "./mailer";
export { readMailbox, startSmtpSink, type MailboxEntry, type SmtpSink, type SmtpSinkOptions } from "./smtp-sink";
