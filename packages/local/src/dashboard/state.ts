/**
 * The dashboard's snapshot: everything the page shows, read fresh from the same sources the
 * ops CLI uses (the database, SQS queue attributes, the SMTP sink's mailbox). Each section is
 * read independently, so a stopped queue emulator still leaves stock and restock visible, with
 * the error shown where its numbers would be.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Database } from "@donut-states/core/drizzle";
import * as Outbox from "@donut-states/core/outbox";
import * as Product from "@donut-states/core/product";
import * as Restock from "@donut-states/core/restock";
import { dlqAlarm } from "@donut-states/core/topology";
import { queueDepth } from "@donut-states/core/util/sqs";
import { type AddressObject, simpleParser } from "mailparser";
import { type DashboardHistory, readHistory } from "./history";

/** What the page shows of a queue: waiting (the DLQ alarm's metric) and being processed. */
export interface QueueDepth {
  visible: number;
  inFlight: number;
}

async function depthOf(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const { visible, inFlight } = await queueDepth(sqs, queueUrl);
  return { visible, inFlight };
}

export interface DashboardState {
  generatedAt: string;
  products: Array<{
    sku: string;
    name: string;
    stock: number;
    reorderPoint: number;
    restockQuantity: number;
    restock: { id: string; status: Restock.RestockStatus } | null;
  }>;
  restock: {
    counts: Record<Restock.RestockStatus, number>;
    recent: Array<{
      id: string;
      sku: string;
      status: Restock.RestockStatus;
      quantity: number;
      attempts: number;
      lastError: string | null;
      createdAt: string;
      updatedAt: string;
    }>;
  };
  outbox: { pending: number; oldestPendingAt: string | null };
  queues: { factory: QueueDepth | null; dlq: QueueDepth | null };
  alarm: { state: string; source: "alarm" | "derived" };
  alerts: Array<{ subject: string; to: string[]; date: string }>;
  /** The last hour: orders per minute, stock per SKU, the restock requests' timelines (null: database unreadable). */
  history: DashboardHistory | null;
  /** Sections that could not be read, with why (the rest of the snapshot is still good). */
  errors: Partial<Record<"database" | "queues" | "mail" | "alarm", string>>;
}

export interface StateSources {
  db: Database;
  sqs: SQSClient;
  factoryQueueUrl: string;
  dlqUrl: string;
  mailDir?: string;
  alarmState?: () => string;
  /** How many recent restock requests and alert e-mails to list. */
  recent?: number;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function readDatabase(db: Database, recent: number) {
  const [products, counts, requests, outbox] = await Promise.all([
    Product.stockLevels(db),
    Restock.countByStatus(db),
    Restock.list({ limit: recent, executor: db }),
    Outbox.summary({ limit: 1, executor: db }),
  ]);
  return {
    products,
    history: await readHistory(db, products, { restocks: recent }),
    restock: {
      counts,
      recent: requests.map(({ id, sku, status, quantity, attempts, lastError, createdAt, updatedAt }) => ({
        id,
        sku,
        status,
        quantity,
        attempts,
        lastError,
        createdAt: createdAt.toISOString(),
        updatedAt: updatedAt.toISOString(),
      })),
    },
    outbox: { pending: outbox.pending, oldestPendingAt: outbox.oldestPendingAt?.toISOString() ?? null },
  };
}

type Mail = DashboardState["alerts"][number];

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return list.flatMap((entry) => entry.value.map((address) => address.address ?? "").filter(Boolean));
}

/**
 * The newest `limit` mails of the SMTP sink's directory (same files as readMailbox of
 * @donut-states/emulators/mail, whose names sort by arrival). Only the newest few are parsed, and
 * each file once: `.local/mail` keeps growing across runs and the page asks every second.
 */
export function createMailReader(dir: string, limit: number) {
  const cache = new Map<string, Mail>();
  return async function recentMail(): Promise<Mail[]> {
    let names: string[];
    try {
      names = (await readdir(dir))
        .filter((name) => name.endsWith(".eml"))
        .sort()
        .slice(-limit)
        .reverse();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const mails = await Promise.all(
      names.map(async (name) => {
        const cached = cache.get(name);
        if (cached) return cached;
        const file = path.join(dir, name);
        const parsed = await simpleParser(await readFile(file));
        const mail = {
          subject: parsed.subject ?? "(no subject)",
          to: addresses(parsed.to),
          date: (parsed.date ?? (await stat(file)).mtime).toISOString(),
        };
        cache.set(name, mail);
        return mail;
      }),
    );
    for (const name of cache.keys()) if (!names.includes(name)) cache.delete(name);
    return mails;
  };
}

/** Build a reader of the whole snapshot; concurrent callers share one read in progress. */
export function createStateReader(sources: StateSources): () => Promise<DashboardState> {
  const recent = sources.recent ?? 10;
  const recentMail = sources.mailDir ? createMailReader(path.resolve(sources.mailDir), recent) : async () => [];
  let inProgress: Promise<DashboardState> | undefined;

  async function read(): Promise<DashboardState> {
    const errors: DashboardState["errors"] = {};
    const [database, factory, dlq, alerts] = await Promise.all([
      readDatabase(sources.db, recent).catch((error) => void (errors.database = message(error))),
      depthOf(sources.sqs, sources.factoryQueueUrl).catch((error) => void (errors.queues = message(error))),
      depthOf(sources.sqs, sources.dlqUrl).catch((error) => void (errors.queues = message(error))),
      recentMail().catch((error) => void (errors.mail = message(error))),
    ]);
    let alarm: DashboardState["alarm"];
    try {
      alarm = sources.alarmState
        ? { state: sources.alarmState(), source: "alarm" }
        : // Without the alarm itself, show what it would say (DLQ depth >= threshold).
          { state: dlq ? (dlq.visible >= dlqAlarm.threshold ? "ALARM" : "OK") : "INSUFFICIENT_DATA", source: "derived" };
    } catch (error) {
      errors.alarm = message(error);
      alarm = { state: "INSUFFICIENT_DATA", source: "alarm" };
    }
    return {
      generatedAt: new Date().toISOString(),
      products: database?.products ?? [],
      restock: database?.restock ?? {
        counts: Object.fromEntries(Restock.RESTOCK_STATUSES.map((status) => [status, 0])) as Record<Restock.RestockStatus, number>,
        recent: [],
      },
      outbox: database?.outbox ?? { pending: 0, oldestPendingAt: null },
      queues: { factory: factory ?? null, dlq: dlq ?? null },
      alarm,
      alerts: alerts ?? [],
      history: database?.history ?? null,
      errors,
    };
  }

  return () => (inProgress ??= read().finally(() => (inProgress = undefined)));
}
