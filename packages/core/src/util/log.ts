import { Logger } from "@aws-lambda-powertools/logger";

/**
 * One structured JSON logger for every function. Correlation fields (restockId, sku, orderId)
 * are appended per call so one restock can be followed from sale to callback by filtering on
 * its id. Level: POWERTOOLS_LOG_LEVEL (default INFO).
 */
export const logger = new Logger({ serviceName: "donut-states" });
