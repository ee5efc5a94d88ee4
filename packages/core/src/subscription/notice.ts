import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import type { RestockFulfilledDetail } from "../event";
import { backInStockTopic } from "../topology";
import { awsClientConfig } from "../util/aws";
import { requiredEnv } from "../util/config";
import { logger } from "../util/log";

/**
 * The back-in-stock notice: what the notifier publishes for a restock. Apart from the subscription
 * rule (index.ts), which reads the catalogue, so the notifier's bundle carries no database client.
 */

let sns: SNSClient | undefined;
const client = () => (sns ??= new SNSClient(awsClientConfig()));

/** The mail subscribers of one SKU get when its restock arrived. */
export function backInStockMessage(detail: Pick<RestockFulfilledDetail, "sku" | "name" | "stock">): { subject: string; message: string } {
  return {
    // SNS limits e-mail subjects to 100 printable ASCII characters: the SKU, not the name.
    subject: `Back in stock: ${detail.sku}`.slice(0, 100),
    message: [
      `Good news: ${detail.name} (${detail.sku}) is back in stock.`,
      "",
      `${detail.stock} ${detail.stock === 1 ? "is" : "are"} available right now. Order with POST /orders {"sku": "${detail.sku}", "quantity": 1}.`,
      "",
      `You get this mail because you asked to hear when ${detail.sku} is back. It is the one mail we send about it: your request ends here.`,
    ].join("\n"),
  };
}

/**
 * Tell the SKU's subscribers it is back: one publish to the topic with the SKU in the message
 * attribute every subscription's filter policy reads, so SNS delivers it to that SKU's confirmed
 * subscribers only. At least once: a restock event delivered twice mails twice.
 */
export async function announceBackInStock(
  detail: Pick<RestockFulfilledDetail, "restockId" | "sku" | "name" | "stock">,
): Promise<{ messageId?: string }> {
  const { subject, message } = backInStockMessage(detail);
  const { MessageId } = await client().send(
    new PublishCommand({
      TopicArn: requiredEnv("BACK_IN_STOCK_TOPIC_ARN"),
      Subject: subject,
      Message: message,
      MessageAttributes: { [backInStockTopic.skuAttribute]: { DataType: "String", StringValue: detail.sku } },
    }),
  );
  logger.info("back-in-stock notice published", { restockId: detail.restockId, sku: detail.sku, messageId: MessageId });
  return { messageId: MessageId };
}
