import type { FunctionSetting } from "../topology";
import { optionalSecret, secret } from "./secret";

/** The shortest HMAC-SHA256 key we accept where one is required to be strong: the hash's own 32 bytes (RFC 2104). */
export const MIN_KEY_BYTES = 32;

/** `value` if it has at least `minBytes` bytes; else an error that names the setting and how to make a good one. */
export function strongEnough(name: FunctionSetting, value: string, minBytes = MIN_KEY_BYTES): string {
  const bytes = Buffer.byteLength(value, "utf8");
  if (bytes < minBytes) {
    throw new Error(
      `${name} is ${bytes} bytes long; it must be at least ${minBytes} bytes (generate one with \`openssl rand -base64 32\`)`,
    );
  }
  return value;
}

/** A token no cached key accepts re-reads the keys at most this often (forged tokens must not flood SSM). */
const REFRESH_INTERVAL_MS = 30_000;

export interface SigningKeys {
  /** The key that signs new tokens. */
  current(): Promise<string>;
  /**
   * Does `accepts` hold for the current key or, during a rotation, the previous one? A container
   * that cached the keys before a rotation reads them again once when none does, so a token signed
   * with the new key is not refused.
   */
  verify(accepts: (key: string) => boolean): Promise<boolean>;
}

/**
 * An HMAC key kept as an SST Secret, with the one it replaces while it is being rotated: tokens
 * are signed with `current` and accepted with either. With `minBytes`, a shorter key is refused
 * with a clear message (each time it is read, so a stage never signs with it).
 */
export function signingKeys(current: FunctionSetting, previous: FunctionSetting, { minBytes }: { minBytes?: number } = {}): SigningKeys {
  const checked = (name: FunctionSetting, value: string) => (minBytes === undefined ? value : strongEnough(name, value, minBytes));
  let lastRefresh = 0;
  const accepted = async (refresh: boolean): Promise<string[]> => {
    const [now, before] = await Promise.all([secret(current, { refresh }), optionalSecret(previous, { refresh })]);
    const keys = [checked(current, now)];
    if (before !== undefined && before !== now) keys.push(checked(previous, before));
    return keys;
  };
  return {
    current: async () => checked(current, await secret(current)),
    async verify(accepts) {
      if ((await accepted(false)).some(accepts)) return true;
      if (Date.now() - lastRefresh < REFRESH_INTERVAL_MS) return false;
      lastRefresh = Date.now();
      return (await accepted(true)).some(accepts);
    },
  };
}
