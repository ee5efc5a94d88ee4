import * as z from "../util/zod";

/** RFC 5321: a forward path holds at most 254 characters of address; a local part at most 64. */
export const MAX_EMAIL_LENGTH = 254;
const MAX_LOCAL_PART_LENGTH = 64;

/**
 * One spelling per mailbox: surrounding spaces dropped, all lower case. The domain is case-blind by
 * definition; the local part may in theory be case-sensitive, but no mail provider in use treats
 * it so, and one spelling makes a repeated request the same subscription (idempotent) rather than
 * a second one mailing the same inbox.
 */
export function normalizeEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

/**
 * A customer's e-mail address, validated at the boundary: a string of reasonable size, normalised,
 * then an ASCII address zod's e-mail check accepts (no display names, comments or quoted local
 * parts), within RFC 5321's lengths.
 */
export const Email = z.pipe(
  z.pipe(
    z
      .string({ error: "email must be a string" })
      .check(z.maxLength(MAX_EMAIL_LENGTH + 64, `email must be at most ${MAX_EMAIL_LENGTH} characters`)),
    z.transform(normalizeEmail),
  ),
  z.email({ error: "email must be an e-mail address (name@example.com)" }).check(
    z.maxLength(MAX_EMAIL_LENGTH, `email must be at most ${MAX_EMAIL_LENGTH} characters`),
    z.refine(
      (email) => email.indexOf("@") <= MAX_LOCAL_PART_LENGTH,
      `the part before @ must be at most ${MAX_LOCAL_PART_LENGTH} characters`,
    ),
  ),
);
