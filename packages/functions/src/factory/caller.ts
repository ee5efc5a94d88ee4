import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { Events, parseBusEvent } from "@donut-states/core/event";
import * as Restock from "@donut-states/core/restock";
import { factoryQueue } from "@donut-states/core/topology";
import { logger } from "@donut-states/core/util/log";
import type { SQSHandler, SQSRecord } from "aws-lambda";

/**
 * One SQS record = one OutOfStock event (in its EventBridge envelope) = one factory call.
 * Throwing marks just this record failed; the rest of the batch is deleted.
 */
async function callFactory(record: SQSRecord): Promise<void> {
  const { id: eventId, detail } = readOutOfStock(record);
  logger.debug("factory queue record", { restockId: detail.restockId, sku: detail.sku, messageId: record.messageId, eventId });
  await Restock.requestFromFactory(detail.restockId, {
    receiveCount: Number(record.attributes.ApproximateReceiveCount ?? "1"),
    maxReceiveCount: factoryQueue.maxReceiveCount,
  });
}

/** The record's OutOfStock event; a record that is none is logged (the batch processor keeps failures quiet) and fails. */
function readOutOfStock(record: SQSRecord) {
  try {
    return parseBusEvent(Events.OutOfStock, record.body);
  } catch (error) {
    logger.error("factory queue record is not an OutOfStock event; it is retried, then goes to the DLQ", {
      messageId: record.messageId,
      error,
    });
    throw error;
  }
}

/**
 * SQS consumer of the factory queue, with ReportBatchItemFailures. A processor per invocation:
 * a processor keeps the batch's failures in its own state, so one shared by overlapping
 * invocations (an environment serving several at once) would let a second batch wipe the
 * first one's failures, and their messages would be deleted instead of retried.
 */
export const handler: SQSHandler = async (event, context) =>
  processPartialResponse(event, callFactory, new BatchProcessor(EventType.SQS), { context, throwOnFullBatchFailure: false });
