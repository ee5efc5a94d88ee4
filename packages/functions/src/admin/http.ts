import type * as Product from "@donut-states/core/product";
import { AppError, ValidationError } from "@donut-states/core/util/error";
import * as z from "@donut-states/core/util/zod";
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import { type ApiResult, apiHandler } from "../api/http";

/**
 * The admin routes' thin layer: the same parsing, validation and error shape as the public API
 * (../api/http.ts), plus the caller. API Gateway's AWS_IAM authorizer has already checked the
 * request's signature and the caller's IAM policy; the identity it verified is what gets
 * recorded as who made a change.
 */
export type AdminEvent = APIGatewayProxyEventV2WithIAMAuthorizer;

export function adminHandler(fn: (event: AdminEvent) => Promise<ApiResult>) {
  return apiHandler((event) => fn(event as AdminEvent));
}

/**
 * The verified caller, as an IAM ARN. A request without one did not pass the IAM authorizer
 * (a route deployed without it, by mistake): refused, never recorded as "someone".
 */
export function caller(event: AdminEvent): Product.Actor {
  const iam = event.requestContext.authorizer?.iam;
  const who = iam?.userArn || iam?.callerId;
  if (!who) throw new AppError(403, "FORBIDDEN", "The admin API needs a SigV4-signed request from an IAM principal");
  return { who: who.slice(0, 512) };
}

/** `limit` query parameter: a whole number from 1 to `max`. */
export function limitParam(event: AdminEvent, fallback: number, max = 1000): number {
  const raw = event.queryStringParameters?.limit;
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new ValidationError(`Invalid query parameter limit: limit must be a whole number from 1 to ${max}`, { limit: raw });
  }
  return Number(raw);
}

export const optionalString = z.optional(z.string());
