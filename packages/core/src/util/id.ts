import { randomFillSync } from "node:crypto";
import { ulid } from "ulid";

/**
 * ULIDs for every row id. ulid's default PRNG asks the OS for one random byte per character
 * (16 calls per id) and looks up the crypto API on every call; this one draws the same
 * cryptographic bytes from a pool refilled 4 KiB at a time.
 */
const pool = Buffer.alloc(4096);
let next = pool.length;

function randomFraction(): number {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  return pool[next++] / 256;
}

export function newId(): string {
  return ulid(undefined, randomFraction);
}
