/**
 * Conformance table for pattern.ts.
 *
 * Patterns and events are the examples of the AWS user guide pages
 * "Amazon EventBridge event patterns", "Content filtering in Amazon
 * EventBridge event patterns", "Comparison operators for use in event
 * patterns", "Matching null values and empty strings" and "Arrays in ...
 * event patterns" (plus aws/event-ruler's README for $or and JSON array
 * matching). Each doc example is paired with a near-miss event so every
 * operator is exercised both ways; `doc` names the section a row comes from.
 * Rows marked "judgement" pin down behaviour the docs leave open.
 */
import { describe, expect, it } from "vitest";
import { compilePattern, EventPatternError, matchesPattern, validatePattern } from "./pattern";

interface Case {
  name: string;
  doc: string;
  pattern: Record<string, unknown>;
  event: Record<string, unknown>;
  expected: boolean;
}

/** The EC2 sample event used throughout the content-filtering doc / event-ruler README. */
function ec2(detail: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: "0",
    id: "ddddd4-aaaa-7777-4444-345dd43cc333",
    "detail-type": "EC2 Instance State-change Notification",
    source: "aws.ec2",
    account: "012345679012",
    time: "2017-10-02T16:24:49Z",
    region: "us-east-1",
    resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
    ...top,
    detail: {
      "c-count": 5,
      "d-count": 3,
      "x-limit": 301.8,
      "source-ip": "10.0.0.33",
      "instance-id": "i-000000aaaaaa00000",
      state: "running",
      ...detail,
    },
  };
}

/** Null-values doc sample (Auto Scaling launch event). */
const autoscaling = {
  version: "0",
  id: "3e3c153a-8339-4e30-8c35-687ebef853fe",
  "detail-type": "EC2 Instance Launch Successful",
  source: "aws.autoscaling",
  account: "123456789012",
  time: "2015-11-11T21:31:47Z",
  region: "us-east-1",
  resources: [],
  detail: { eventVersion: "", responseElements: null },
};

/** Event-patterns doc, "Value matching" (Macie alert, truncated). */
function macie(riskScore: unknown, triggerRisk: unknown): Record<string, unknown> {
  return {
    "detail-type": "Macie Alert",
    source: "aws.macie",
    detail: { "risk-score": riskScore, tags: ["Custom_Alert", "Insider"], trigger: { risk: triggerRisk } },
  };
}

const macieRisk = { source: ["aws.macie"], "detail-type": ["Macie Alert"], detail: { "risk-score": [80], trigger: { risk: [8] } } };

/** event-ruler README, "$or" examples. */
const orPattern = {
  source: ["aws.cloudwatch"],
  $or: [{ metricName: ["CPUUtilization", "ReadLatency"] }, { namespace: ["AWS/EC2", "AWS/ES"] }],
};
const orAndPattern = {
  source: ["aws.cloudwatch"],
  $or: [
    { metricName: ["CPUUtilization", "ReadLatency"] },
    { metricType: ["MetricType"], namespace: ["AWS/EC2", "AWS/ES"] },
    { scope: ["Service"] },
  ],
};

/** Content-filtering doc, "Complex example with multiple matching" (+ README's cidr line). */
const complex = {
  time: [{ prefix: "2017-10-02" }],
  detail: {
    state: [{ "anything-but": "initializing" }],
    "c-count": [{ numeric: [">", 0, "<=", 5] }],
    "d-count": [{ numeric: ["<", 10] }],
    "x-limit": [{ "anything-but": [100, 200, 300] }],
    "source-ip": [{ cidr: "10.0.0.0/8" }],
  },
};

const employees = {
  employees: [
    { firstName: "John", lastName: "Doe" },
    { firstName: "Anna", lastName: "Smith" },
    { firstName: "Peter", lastName: "Jones" },
  ],
};

const d = (detail: Record<string, unknown>) => ({ detail });

const cases: Case[] = [
  // --- exact values, OR lists, AND across keys, nesting ---------------------
  {
    name: "EC2 termination pattern matches a terminated event",
    doc: "event patterns",
    pattern: { source: ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"], detail: { state: ["terminated"] } },
    event: ec2({ state: "terminated" }),
    expected: true,
  },
  {
    name: "EC2 termination pattern ignores a running instance",
    doc: "event patterns",
    pattern: { source: ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"], detail: { state: ["terminated"] } },
    event: ec2(),
    expected: false,
  },
  {
    name: "value list is OR: aws.fargate is one of the sources",
    doc: "event patterns: match values",
    pattern: { source: ["aws.ec2", "aws.fargate"] },
    event: ec2({}, { source: "aws.fargate" }),
    expected: true,
  },
  {
    name: "value list is OR: aws.s3 is none of the sources",
    doc: "event patterns: match values",
    pattern: { source: ["aws.ec2", "aws.fargate"] },
    event: ec2({}, { source: "aws.s3" }),
    expected: false,
  },
  {
    name: "strings match character by character (no case folding)",
    doc: "event patterns: create",
    pattern: { source: ["AWS.EC2"] },
    event: ec2(),
    expected: false,
  },
  {
    name: "all keys must match (AND): wrong detail-type fails",
    doc: "event patterns: create",
    pattern: { source: ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"] },
    event: ec2(),
    expected: false,
  },
  {
    name: "numbers and nested objects: risk-score 80 and trigger.risk 8",
    doc: "event patterns: value matching",
    pattern: macieRisk,
    event: macie(80, 8),
    expected: true,
  },
  {
    name: "nested object must match too: trigger.risk 9",
    doc: "event patterns: value matching",
    pattern: macieRisk,
    event: macie(80, 9),
    expected: false,
  },
  {
    name: 'number pattern does not match the string "80"',
    doc: "event patterns: value matching",
    pattern: macieRisk,
    event: macie("80", 8),
    expected: false,
  },
  {
    name: "a pattern field missing from the event fails",
    doc: "event patterns: create",
    pattern: { detail: { "instance-id": ["i-1"], zone: ["a"] } },
    event: ec2({ "instance-id": "i-1" }),
    expected: false,
  },
  {
    name: "nested pattern against a scalar event value fails",
    doc: "event patterns: create (same nesting)",
    pattern: { detail: { state: { name: ["running"] } } },
    event: ec2(),
    expected: false,
  },
  {
    name: "resources: intersection of pattern and event arrays",
    doc: "arrays",
    pattern: {
      resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f", "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f"],
    },
    event: {
      resources: [
        "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b:autoScalingGroupName/ASGTerminate",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
      ],
    },
    expected: true,
  },
  {
    name: "resources: empty intersection",
    doc: "arrays",
    pattern: { resources: ["arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"] },
    event: { resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"] },
    expected: false,
  },
  {
    name: "array-valued detail field: any element may match",
    doc: "arrays",
    pattern: { detail: { tags: ["Insider"] } },
    event: macie(80, 8),
    expected: true,
  },
  {
    name: "array-valued detail field: no element matches",
    doc: "arrays",
    pattern: { detail: { tags: ["Outsider"] } },
    event: macie(80, 8),
    expected: false,
  },
  {
    name: "array of objects: one element has firstName Anna",
    doc: "event-ruler: JSON array matching",
    pattern: { employees: { firstName: ["Anna"] } },
    event: employees,
    expected: true,
  },
  {
    name: "array of objects: Anna and Jones are different elements",
    doc: "event-ruler: JSON array matching",
    pattern: { employees: { firstName: ["Anna"], lastName: ["Jones"] } },
    event: employees,
    expected: false,
  },
  {
    name: "duplicate key in pattern JSON: the last one wins",
    doc: "content filtering: note",
    pattern: JSON.parse('{"detail":{"location":[{"prefix":"us-"}],"location":[{"anything-but":"us-east"}]}}'),
    event: d({ location: "eu-west" }),
    expected: true,
  },

  // --- null and empty string ----------------------------------------------
  {
    name: '[""] matches an empty string',
    doc: "null values and empty strings",
    pattern: { detail: { eventVersion: [""] } },
    event: autoscaling,
    expected: true,
  },
  {
    name: "[null] matches a null value",
    doc: "null values and empty strings",
    pattern: { detail: { responseElements: [null] } },
    event: autoscaling,
    expected: true,
  },
  {
    name: '[""] does not match null',
    doc: "null values and empty strings",
    pattern: { detail: { responseElements: [""] } },
    event: autoscaling,
    expected: false,
  },
  {
    name: "[null] does not match an empty string",
    doc: "null values and empty strings",
    pattern: { detail: { eventVersion: [null] } },
    event: autoscaling,
    expected: false,
  },
  {
    name: "[null] does not match a missing field",
    doc: "null values and empty strings",
    pattern: { detail: { missing: [null] } },
    event: autoscaling,
    expected: false,
  },
  {
    name: "[true] matches the JSON keyword true",
    doc: "event patterns: create (JSON rules)",
    pattern: { detail: { flag: [true] } },
    event: d({ flag: true }),
    expected: true,
  },
  {
    name: '[true] does not match the string "true"',
    doc: "event patterns: create (JSON rules)",
    pattern: { detail: { flag: [true] } },
    event: d({ flag: "true" }),
    expected: false,
  },

  // --- prefix ---------------------------------------------------------------
  {
    name: "prefix: time starts with 2017-10-02",
    doc: "content filtering: prefix",
    pattern: { time: [{ prefix: "2017-10-02" }] },
    event: ec2(),
    expected: true,
  },
  {
    name: "prefix: time on another day",
    doc: "content filtering: prefix",
    pattern: { time: [{ prefix: "2017-10-02" }] },
    event: ec2({}, { time: "2017-10-03T00:00:00Z" }),
    expected: false,
  },
  {
    name: "prefix: us- region (operators table)",
    doc: "comparison operators: begins with",
    pattern: { detail: { Region: [{ prefix: "us-" }] } },
    event: d({ Region: "us-west-2" }),
    expected: true,
  },
  {
    name: "prefix is case-sensitive",
    doc: "comparison operators: begins with",
    pattern: { detail: { Region: [{ prefix: "us-" }] } },
    event: d({ Region: "US-WEST-2" }),
    expected: false,
  },
  {
    name: "prefix only applies to strings",
    doc: "content filtering: prefix (string values)",
    pattern: { detail: { "c-count": [{ prefix: "5" }] } },
    event: ec2(),
    expected: false,
  },
  {
    name: "prefix equals-ignore-case: EVENTBRIDGE starts with EventB",
    doc: "content filtering: prefix ignoring case",
    pattern: { detail: { service: [{ prefix: { "equals-ignore-case": "EventB" } }] } },
    event: d({ service: "EVENTBRIDGE" }),
    expected: true,
  },
  {
    name: "prefix equals-ignore-case: Events does not start with eventb",
    doc: "content filtering: prefix ignoring case",
    pattern: { detail: { service: [{ prefix: { "equals-ignore-case": "EventB" } }] } },
    event: d({ service: "Events" }),
    expected: false,
  },

  // --- suffix ---------------------------------------------------------------
  {
    name: "suffix: FileName ends with .png",
    doc: "content filtering: suffix",
    pattern: { FileName: [{ suffix: ".png" }] },
    event: { FileName: "photo.png" },
    expected: true,
  },
  {
    name: "suffix: .jpg is not .png",
    doc: "content filtering: suffix",
    pattern: { FileName: [{ suffix: ".png" }] },
    event: { FileName: "photo.jpg" },
    expected: false,
  },
  {
    name: "suffix is case-sensitive",
    doc: "content filtering: suffix",
    pattern: { FileName: [{ suffix: ".png" }] },
    event: { FileName: "PHOTO.PNG" },
    expected: false,
  },
  {
    name: "suffix equals-ignore-case: .PNG ends with .png",
    doc: "content filtering: suffix ignoring case",
    pattern: { detail: { FileName: [{ suffix: { "equals-ignore-case": ".png" } }] } },
    event: d({ FileName: "PHOTO.PNG" }),
    expected: true,
  },
  {
    name: "suffix equals-ignore-case: .png.bak does not end with .png",
    doc: "content filtering: suffix ignoring case",
    pattern: { detail: { FileName: [{ suffix: { "equals-ignore-case": ".png" } }] } },
    event: d({ FileName: "photo.PNG.bak" }),
    expected: false,
  },

  // --- equals-ignore-case ---------------------------------------------------
  {
    name: "equals-ignore-case: alice matches Alice",
    doc: "comparison operators: equals (ignore case)",
    pattern: { detail: { Name: [{ "equals-ignore-case": "alice" }] } },
    event: d({ Name: "Alice" }),
    expected: true,
  },
  {
    name: "equals-ignore-case: alice does not match Alicia",
    doc: "comparison operators: equals (ignore case)",
    pattern: { detail: { Name: [{ "equals-ignore-case": "alice" }] } },
    event: d({ Name: "Alicia" }),
    expected: false,
  },
  {
    name: "equals-ignore-case is whole-value, not prefix",
    doc: "comparison operators: equals (ignore case)",
    pattern: { source: [{ "equals-ignore-case": "EC2" }] },
    event: ec2(),
    expected: false,
  },

  // --- wildcard -------------------------------------------------------------
  {
    name: "wildcard dir/*.png matches dir/image.png",
    doc: "comparison operators: wildcard",
    pattern: { detail: { FileName: [{ wildcard: "dir/*.png" }] } },
    event: d({ FileName: "dir/image.png" }),
    expected: true,
  },
  {
    name: "wildcard * spans slashes",
    doc: "comparison operators: wildcard",
    pattern: { detail: { FileName: [{ wildcard: "dir/*.png" }] } },
    event: d({ FileName: "dir/a/b.png" }),
    expected: true,
  },
  {
    name: "wildcard dir/*.png does not match other/image.png",
    doc: "comparison operators: wildcard",
    pattern: { detail: { FileName: [{ wildcard: "dir/*.png" }] } },
    event: d({ FileName: "other/image.png" }),
    expected: false,
  },
  {
    name: "wildcard is anchored at both ends",
    doc: "comparison operators: wildcard",
    pattern: { detail: { FileName: [{ wildcard: "dir/*.png" }] } },
    event: d({ FileName: "xdir/image.png.bak" }),
    expected: false,
  },
  {
    name: "wildcard * may match nothing",
    doc: "event-ruler: wildcard",
    pattern: { detail: { FileName: [{ wildcard: "dir/*.png" }] } },
    event: d({ FileName: "dir/.png" }),
    expected: true,
  },
  {
    name: "wildcard over an event bus ARN",
    doc: "comparison operators: wildcard",
    pattern: { detail: { EventBusArn: [{ wildcard: "arn:aws:events:us-east-1:*:event-bus/*" }] } },
    event: d({ EventBusArn: "arn:aws:events:us-east-1:123456789012:event-bus/orders" }),
    expected: true,
  },
  {
    name: "escaped \\* is a literal asterisk",
    doc: "event-ruler: wildcard escaping",
    pattern: { detail: { v: [{ wildcard: "a\\*b" }] } },
    event: d({ v: "a*b" }),
    expected: true,
  },
  {
    name: "escaped \\* does not act as a wildcard",
    doc: "event-ruler: wildcard escaping",
    pattern: { detail: { v: [{ wildcard: "a\\*b" }] } },
    event: d({ v: "axxb" }),
    expected: false,
  },
  {
    name: "escaped \\\\ is a literal backslash",
    doc: "event-ruler: wildcard escaping",
    pattern: { detail: { v: [{ wildcard: "C:\\\\*" }] } },
    event: d({ v: "C:\\Windows" }),
    expected: true,
  },
  {
    name: "wildcard only applies to strings",
    doc: "event-ruler: wildcard",
    pattern: { detail: { "c-count": [{ wildcard: "*" }] } },
    event: ec2(),
    expected: false,
  },

  // --- anything-but ---------------------------------------------------------
  {
    name: "anything-but string: running is not initializing",
    doc: "content filtering: anything-but",
    pattern: { detail: { state: [{ "anything-but": "initializing" }] } },
    event: ec2(),
    expected: true,
  },
  {
    name: "anything-but string: initializing is excluded",
    doc: "content filtering: anything-but",
    pattern: { detail: { state: [{ "anything-but": "initializing" }] } },
    event: ec2({ state: "initializing" }),
    expected: false,
  },
  {
    name: "anything-but number: 301.8 is not 123",
    doc: "content filtering: anything-but",
    pattern: { detail: { "x-limit": [{ "anything-but": 123 }] } },
    event: ec2(),
    expected: true,
  },
  {
    name: "anything-but number: 123 is excluded",
    doc: "content filtering: anything-but",
    pattern: { detail: { "x-limit": [{ "anything-but": 123 }] } },
    event: ec2({ "x-limit": 123 }),
    expected: false,
  },
  {
    name: "anything-but string list: running is neither",
    doc: "content filtering: anything-but list",
    pattern: { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } },
    event: ec2(),
    expected: true,
  },
  {
    name: "anything-but string list: overloaded is excluded",
    doc: "content filtering: anything-but list",
    pattern: { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } },
    event: ec2({ state: "overloaded" }),
    expected: false,
  },
  {
    name: "anything-but number list: 301.8 is none of 100/200/300",
    doc: "content filtering: anything-but list",
    pattern: { detail: { "x-limit": [{ "anything-but": [100, 200, 300] }] } },
    event: ec2(),
    expected: true,
  },
  {
    name: "anything-but number list: 200 is excluded",
    doc: "content filtering: anything-but list",
    pattern: { detail: { "x-limit": [{ "anything-but": [100, 200, 300] }] } },
    event: ec2({ "x-limit": 200 }),
    expected: false,
  },
  {
    name: "anything-but prefix: running does not start with init",
    doc: "content filtering: anything-but prefix",
    pattern: { detail: { state: [{ "anything-but": { prefix: "init" } }] } },
    event: ec2(),
    expected: true,
  },
  {
    name: "anything-but prefix: initializing starts with init",
    doc: "content filtering: anything-but prefix",
    pattern: { detail: { state: [{ "anything-but": { prefix: "init" } }] } },
    event: ec2({ state: "initializing" }),
    expected: false,
  },
  {
    name: "anything-but suffix: photo.jpg does not end with .png",
    doc: "comparison operators: anything-but (ends with)",
    pattern: { FileName: [{ "anything-but": { suffix: ".png" } }] },
    event: { FileName: "photo.jpg" },
    expected: true,
  },
  {
    name: "anything-but suffix: photo.png ends with .png",
    doc: "comparison operators: anything-but (ends with)",
    pattern: { FileName: [{ "anything-but": { suffix: ".png" } }] },
    event: { FileName: "photo.png" },
    expected: false,
  },
  {
    name: "anything-but equals-ignore-case: running",
    doc: "comparison operators: anything-but (ignore case)",
    pattern: { detail: { state: [{ "anything-but": { "equals-ignore-case": "initializing" } }] } },
    event: ec2(),
    expected: true,
  },
  {
    name: "anything-but equals-ignore-case: INITIALIZING is excluded",
    doc: "comparison operators: anything-but (ignore case)",
    pattern: { detail: { state: [{ "anything-but": { "equals-ignore-case": "initializing" } }] } },
    event: ec2({ state: "INITIALIZING" }),
    expected: false,
  },
  {
    name: "anything-but equals-ignore-case list: Stopped is excluded",
    doc: "comparison operators: anything-but (ignore case)",
    pattern: { detail: { state: [{ "anything-but": { "equals-ignore-case": ["initializing", "stopped"] } }] } },
    event: ec2({ state: "Stopped" }),
    expected: false,
  },
  {
    name: "anything-but wildcard: /usr/bin/x has no /lib/",
    doc: "comparison operators: anything-but using a wildcard",
    pattern: { FilePath: [{ "anything-but": { wildcard: "*/lib/*" } }] },
    event: { FilePath: "/usr/bin/x" },
    expected: true,
  },
  {
    name: "anything-but wildcard: /usr/lib/x contains /lib/",
    doc: "comparison operators: anything-but using a wildcard",
    pattern: { FilePath: [{ "anything-but": { wildcard: "*/lib/*" } }] },
    event: { FilePath: "/usr/lib/x" },
    expected: false,
  },
  {
    name: "anything-but needs the field: missing field does not match (judgement)",
    doc: "content filtering: anything-but",
    pattern: { detail: { state: [{ "anything-but": "initializing" }] } },
    event: d({}),
    expected: false,
  },
  {
    name: "anything-but matches a null value (judgement, AWS-verified by LocalStack)",
    doc: "content filtering: anything-but",
    pattern: { detail: { state: [{ "anything-but": ["baz"] }] } },
    event: d({ state: null }),
    expected: true,
  },
  {
    name: "anything-but on an array field: one other element is enough (judgement)",
    doc: "arrays + anything-but",
    pattern: { detail: { state: [{ "anything-but": "stopped" }] } },
    event: d({ state: ["stopped", "running"] }),
    expected: true,
  },

  // --- numeric --------------------------------------------------------------
  {
    name: "numeric range > 0, <= 5: 5 is inside",
    doc: "content filtering: numeric",
    pattern: { detail: { "c-count": [{ numeric: [">", 0, "<=", 5] }] } },
    event: ec2(),
    expected: true,
  },
  {
    name: "numeric range > 0, <= 5: 0 is outside (open bottom)",
    doc: "content filtering: numeric",
    pattern: { detail: { "c-count": [{ numeric: [">", 0, "<=", 5] }] } },
    event: ec2({ "c-count": 0 }),
    expected: false,
  },
  {
    name: "numeric range > 0, <= 5: 6 is outside",
    doc: "content filtering: numeric",
    pattern: { detail: { "c-count": [{ numeric: [">", 0, "<=", 5] }] } },
    event: ec2({ "c-count": 6 }),
    expected: false,
  },
  {
    name: "numeric < 10: 3",
    doc: "content filtering: numeric",
    pattern: { detail: { "d-count": [{ numeric: ["<", 10] }] } },
    event: ec2(),
    expected: true,
  },
  {
    name: "numeric < 10: 10 is not below 10",
    doc: "content filtering: numeric",
    pattern: { detail: { "d-count": [{ numeric: ["<", 10] }] } },
    event: ec2({ "d-count": 10 }),
    expected: false,
  },
  {
    name: "numeric = 3.018e2 matches 301.8",
    doc: "content filtering: numeric",
    pattern: { detail: { "x-limit": [{ numeric: ["=", 3.018e2] }] } },
    event: ec2(),
    expected: true,
  },
  {
    name: "numeric = 3.018e2 does not match 301.9",
    doc: "content filtering: numeric",
    pattern: { detail: { "x-limit": [{ numeric: ["=", 3.018e2] }] } },
    event: ec2({ "x-limit": 301.9 }),
    expected: false,
  },
  {
    name: "numeric >= 5 includes 5",
    doc: "comparison operators: numeric",
    pattern: { detail: { "c-count": [{ numeric: [">=", 5] }] } },
    event: ec2(),
    expected: true,
  },
  {
    name: "numeric > 5 excludes 5",
    doc: "comparison operators: numeric",
    pattern: { detail: { "c-count": [{ numeric: [">", 5] }] } },
    event: ec2(),
    expected: false,
  },
  {
    name: 'numeric only works with JSON numbers: "5" is a string',
    doc: "content filtering: numeric",
    pattern: { detail: { "c-count": [{ numeric: [">", 0, "<=", 5] }] } },
    event: ec2({ "c-count": "5" }),
    expected: false,
  },
  {
    name: "numeric on an array field: one element in range",
    doc: "arrays + numeric",
    pattern: { detail: { sizes: [{ numeric: [">", 10] }] } },
    event: d({ sizes: [1, 20] }),
    expected: true,
  },
  {
    name: "all three numeric fields must hold (AND)",
    doc: "content filtering: numeric",
    pattern: {
      detail: {
        "c-count": [{ numeric: [">", 0, "<=", 5] }],
        "d-count": [{ numeric: ["<", 10] }],
        "x-limit": [{ numeric: ["=", 3.018e2] }],
      },
    },
    event: ec2({ "d-count": 11 }),
    expected: false,
  },

  // --- exists ---------------------------------------------------------------
  {
    name: "exists true: detail.state is present",
    doc: "content filtering: exists",
    pattern: { detail: { state: [{ exists: true }] } },
    event: ec2({ state: "pending" }),
    expected: true,
  },
  {
    name: "exists true: event without detail.state",
    doc: "content filtering: exists",
    pattern: { detail: { state: [{ exists: true }] } },
    event: { "detail-type": "EC2 Instance State-change Notification", detail: { "c-count": { c1: 100 } } },
    expected: false,
  },
  {
    name: "exists false: detail.c-count is absent",
    doc: "content filtering: exists",
    pattern: { detail: { "c-count": [{ exists: false }] } },
    event: d({ state: ["initializing", "running"] }),
    expected: true,
  },
  {
    name: "exists false: c-count is an object, not a leaf, so it counts as absent",
    doc: "content filtering: exists (leaf nodes only)",
    pattern: { detail: { "c-count": [{ exists: false }] } },
    event: d({ state: ["initializing", "running"], "c-count": { c1: 100 } }),
    expected: true,
  },
  {
    name: "exists true does not match an object-valued field",
    doc: "content filtering: exists (leaf nodes only)",
    pattern: { detail: { "c-count": [{ exists: true }] } },
    event: d({ "c-count": { c1: 100 } }),
    expected: false,
  },
  {
    name: "exists false: c-count is present",
    doc: "content filtering: exists",
    pattern: { detail: { "c-count": [{ exists: false }] } },
    event: ec2(),
    expected: false,
  },
  {
    name: "exists true: a null value is present",
    doc: "content filtering: exists (presence, not value)",
    pattern: { detail: { responseElements: [{ exists: true }] } },
    event: autoscaling,
    expected: true,
  },
  {
    name: "exists false holds when the parent object is missing too",
    doc: "content filtering: exists",
    pattern: { detail: { "c-count": [{ exists: false }] } },
    event: { source: "aws.ec2" },
    expected: true,
  },
  {
    name: "exists true on an empty array: no leaf, not present (judgement)",
    doc: "content filtering: exists",
    pattern: { resources: [{ exists: true }] },
    event: autoscaling,
    expected: false,
  },
  {
    name: 'exists false OR a value: ["x", {exists:false}] with field missing',
    doc: "event patterns: match values (OR)",
    pattern: { detail: { tier: ["gold", { exists: false }] } },
    event: d({}),
    expected: true,
  },

  // --- cidr -----------------------------------------------------------------
  {
    name: "cidr 10.0.0.0/24 contains 10.0.0.33",
    doc: "content filtering: IP address",
    pattern: { detail: { "source-ip": [{ cidr: "10.0.0.0/24" }] } },
    event: ec2(),
    expected: true,
  },
  {
    name: "cidr 10.0.0.0/24 contains 10.0.0.255",
    doc: "content filtering: IP address",
    pattern: { detail: { "source-ip": [{ cidr: "10.0.0.0/24" }] } },
    event: ec2({ "source-ip": "10.0.0.255" }),
    expected: true,
  },
  {
    name: "cidr 10.0.0.0/24 does not contain 10.0.1.1",
    doc: "content filtering: IP address",
    pattern: { detail: { "source-ip": [{ cidr: "10.0.0.0/24" }] } },
    event: ec2({ "source-ip": "10.0.1.1" }),
    expected: false,
  },
  {
    name: "cidr IPv6 2001:db8::/32 contains 2001:db8:1::1",
    doc: "content filtering: IP address (IPv6)",
    pattern: { detail: { sourceIPAddress: [{ cidr: "2001:db8::/32" }] } },
    event: d({ sourceIPAddress: "2001:db8:1::1" }),
    expected: true,
  },
  {
    name: "cidr IPv6 2001:db8::/32 does not contain 2001:db9::1",
    doc: "content filtering: IP address (IPv6)",
    pattern: { detail: { sourceIPAddress: [{ cidr: "2001:db8::/32" }] } },
    event: d({ sourceIPAddress: "2001:db9::1" }),
    expected: false,
  },
  {
    name: "cidr IPv4 block never contains an IPv6 address",
    doc: "content filtering: IP address",
    pattern: { detail: { sourceIPAddress: [{ cidr: "0.0.0.0/0" }] } },
    event: d({ sourceIPAddress: "::1" }),
    expected: false,
  },
  {
    name: "cidr with host bits set covers the whole block (judgement)",
    doc: "content filtering: IP address",
    pattern: { detail: { "source-ip": [{ cidr: "10.0.0.77/24" }] } },
    event: ec2({ "source-ip": "10.0.0.1" }),
    expected: true,
  },
  {
    name: "exact IP literal matches another spelling of the same address",
    doc: "event-ruler: IP literals in exact matches",
    pattern: { detail: { sourceIPAddress: ["2001:db8::1"] } },
    event: d({ sourceIPAddress: "2001:0DB8:0:0:0:0:0:1" }),
    expected: true,
  },
  {
    name: "exact IP literal does not match a different address",
    doc: "event-ruler: IP literals in exact matches",
    pattern: { detail: { sourceIPAddress: ["2001:db8::1"] } },
    event: d({ sourceIPAddress: "2001:db8::2" }),
    expected: false,
  },
  {
    name: "cidr against a non-IP string",
    doc: "content filtering: IP address",
    pattern: { detail: { sourceIPAddress: [{ cidr: "10.0.0.0/8" }] } },
    event: d({ sourceIPAddress: "localhost" }),
    expected: false,
  },

  // --- $or ------------------------------------------------------------------
  {
    name: "$or: source && metricName",
    doc: "event-ruler / operators: $or",
    pattern: orPattern,
    event: { source: "aws.cloudwatch", metricName: "CPUUtilization" },
    expected: true,
  },
  {
    name: "$or: source && namespace",
    doc: "event-ruler / operators: $or",
    pattern: orPattern,
    event: { source: "aws.cloudwatch", namespace: "AWS/EC2" },
    expected: true,
  },
  {
    name: "$or: neither branch",
    doc: "event-ruler / operators: $or",
    pattern: orPattern,
    event: { source: "aws.cloudwatch", metricName: "DiskReadOps", namespace: "AWS/S3" },
    expected: false,
  },
  {
    name: "$or: branches are AND'ed with the other keys",
    doc: "event-ruler / operators: $or",
    pattern: orPattern,
    event: { source: "aws.ec2", metricName: "CPUUtilization" },
    expected: false,
  },
  {
    name: "$or branch with an AND inside: both metricType and namespace",
    doc: "event-ruler: or has an and inside",
    pattern: orAndPattern,
    event: { source: "aws.cloudwatch", metricType: "MetricType", namespace: "AWS/ES" },
    expected: true,
  },
  {
    name: "$or branch with an AND inside: namespace alone is not enough",
    doc: "event-ruler: or has an and inside",
    pattern: orAndPattern,
    event: { source: "aws.cloudwatch", namespace: "AWS/ES" },
    expected: false,
  },
  {
    name: "$or nested inside detail",
    doc: "event-ruler: parallel or",
    pattern: { detail: { $or: [{ "c-count": [{ numeric: [">", 0, "<=", 5] }] }, { "d-count": [{ numeric: ["<", 10] }] }] } },
    event: ec2({ "c-count": 50 }),
    expected: true,
  },
  {
    name: "$or nested inside detail: no branch holds",
    doc: "event-ruler: parallel or",
    pattern: { detail: { $or: [{ "c-count": [{ numeric: [">", 0, "<=", 5] }] }, { "d-count": [{ numeric: ["<", 10] }] }] } },
    event: ec2({ "c-count": 50, "d-count": 50 }),
    expected: false,
  },

  // --- combined ---------------------------------------------------------------
  {
    name: "complex example matches the sample event",
    doc: "content filtering: complex example",
    pattern: complex,
    event: ec2(),
    expected: true,
  },
  {
    name: "complex example: x-limit 200 is excluded",
    doc: "content filtering: complex example",
    pattern: complex,
    event: ec2({ "x-limit": 200 }),
    expected: false,
  },
];

describe("matchesPattern: AWS docs conformance table", () => {
  it.each(cases)("$name", ({ pattern, event, expected }) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });

  it("compilePattern agrees with matchesPattern", () => {
    for (const c of cases) expect(compilePattern(c.pattern)(c.event), c.name).toBe(c.expected);
  });

  it("covers every operator with a match and a non-match", () => {
    const uses = (node: unknown, op: string): boolean =>
      Array.isArray(node)
        ? node.some((n) => uses(n, op))
        : typeof node === "object" && node !== null
          ? Object.entries(node).some(([k, v]) => k === op || uses(v, op))
          : false;
    const operators = ["prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric", "exists", "cidr", "$or"];
    for (const op of operators) {
      const rows = cases.filter((c) => uses(c.pattern, op));
      expect(
        rows.some((c) => c.expected),
        `${op} has a matching row`,
      ).toBe(true);
      expect(
        rows.some((c) => !c.expected),
        `${op} has a non-matching row`,
      ).toBe(true);
    }
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });
});

describe("validatePattern", () => {
  const rejected: Array<{ name: string; pattern: unknown; reason: RegExp }> = [
    { name: "not an object", pattern: ["aws.ec2"], reason: /must be a JSON object/ },
    { name: "null", pattern: null, reason: /must be a JSON object/ },
    { name: "empty object", pattern: {}, reason: /empty objects/ },
    { name: "scalar instead of an array", pattern: { source: "aws.ec2" }, reason: /must be an object or an array/ },
    { name: "empty value array", pattern: { source: [] }, reason: /empty arrays/ },
    { name: "nested array as a value", pattern: { source: [["aws.ec2"]] }, reason: /match values must be/ },
    { name: "unknown operator", pattern: { detail: { state: [{ contains: "run" }] } }, reason: /unrecognized match type "contains"/ },
    { name: "two operators in one object", pattern: { FileName: [{ prefix: "a", suffix: "b" }] }, reason: /only one key/ },
    { name: "numeric with a string operand", pattern: { detail: { n: [{ numeric: [">", "0"] }] } }, reason: /value of > must be a number/ },
    {
      name: "numeric with an unknown operator",
      pattern: { detail: { n: [{ numeric: ["!=", 1] }] } },
      reason: /unrecognized numeric operator "!="/,
    },
    { name: "numeric not an array", pattern: { detail: { n: [{ numeric: 5 }] } }, reason: /numeric must be an array/ },
    {
      name: "numeric with a dangling operator",
      pattern: { detail: { n: [{ numeric: [">", 0, "<="] }] } },
      reason: /one comparison or a range/,
    },
    { name: "numeric range upside down", pattern: { detail: { n: [{ numeric: ["<", 5, ">", 0] }] } }, reason: /numeric range must be/ },
    {
      name: "numeric range with bottom above top",
      pattern: { detail: { n: [{ numeric: [">", 5, "<", 1] }] } },
      reason: /bottom must be less than top/,
    },
    { name: "exists with a string", pattern: { detail: { n: [{ exists: "false" }] } }, reason: /exists must be true or false/ },
    { name: "prefix with a number", pattern: { time: [{ prefix: 2017 }] }, reason: /must be a string/ },
    {
      name: "prefix with an unknown nested operator",
      pattern: { time: [{ prefix: { wildcard: "2017*" } }] },
      reason: /unsupported prefix pattern/,
    },
    { name: "equals-ignore-case with a number", pattern: { Name: [{ "equals-ignore-case": 1 }] }, reason: /must be a string/ },
    { name: "wildcard with consecutive stars", pattern: { FileName: [{ wildcard: "dir/**.png" }] }, reason: /consecutive wildcard/ },
    { name: "wildcard with an invalid escape", pattern: { FileName: [{ wildcard: "dir\\x" }] }, reason: /invalid escape/ },
    { name: "cidr without mask", pattern: { ip: [{ cidr: "10.0.0.0" }] }, reason: /one '\/' required/ },
    { name: "cidr with too many mask bits", pattern: { ip: [{ cidr: "10.0.0.0/33" }] }, reason: /mask bits must be <= 32/ },
    { name: "cidr with a bad address", pattern: { ip: [{ cidr: "300.0.0.0/8" }] }, reason: /not an IPv4 or IPv6 address/ },
    { name: "cidr IPv6 with too many mask bits", pattern: { ip: [{ cidr: "2001:db8::/129" }] }, reason: /mask bits must be <= 128/ },
    { name: "anything-but with mixed types", pattern: { state: [{ "anything-but": ["a", 1] }] }, reason: /only strings or only numbers/ },
    { name: "anything-but null", pattern: { state: [{ "anything-but": null }] }, reason: /only strings or only numbers/ },
    { name: "anything-but empty prefix", pattern: { state: [{ "anything-but": { prefix: "" } }] }, reason: /must not be empty/ },
    {
      name: "anything-but numeric",
      pattern: { state: [{ "anything-but": { numeric: [">", 1] } }] },
      reason: /unsupported anything-but pattern "numeric"/,
    },
    { name: "$or with one branch", pattern: { $or: [{ source: ["a"] }] }, reason: /at least 2/ },
    { name: "$or not an array", pattern: { $or: { source: ["a"] } }, reason: /\$or must be an array/ },
    { name: "$or with a non-object branch", pattern: { $or: [{ source: ["a"] }, "b"] }, reason: /only JSON objects/ },
    {
      name: "operator name as a field inside $or",
      pattern: { $or: [{ prefix: ["a"] }, { source: ["b"] }] },
      reason: /reserved operator name/,
    },
  ];

  it.each(rejected)("rejects $name", ({ pattern, reason }) => {
    expect(() => validatePattern(pattern)).toThrow(EventPatternError);
    expect(() => validatePattern(pattern)).toThrow(reason);
  });

  it("matchesPattern refuses an invalid pattern instead of answering false", () => {
    expect(() => matchesPattern({ detail: { n: [{ numeric: [">", "0"] }] } }, ec2())).toThrow(EventPatternError);
  });

  it("names the offending path in the message", () => {
    expect(() => validatePattern({ detail: { "c-count": [{ numeric: [">", "0"] }] } })).toThrow(/at "detail\.c-count\[0\]\.numeric"/);
  });

  it("accepts every pattern of the conformance table", () => {
    for (const c of cases) expect(() => validatePattern(c.pattern), c.name).not.toThrow();
  });
});
