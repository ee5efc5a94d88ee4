/** A URL safe to print or write to a file: its password, if any, replaced by ****. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "****";
    return parsed.toString();
  } catch {
    return "(unparseable URL)";
  }
}

/** A URL that could not be parsed. Its message never contains the URL (it may hold a password). */
export class InvalidUrlError extends Error {
  constructor(name: string) {
    super(
      `${name} is not a valid URL. Percent-encode reserved characters in the user name and password ` +
        "(# as %23, ? as %3F, / as %2F, @ as %40, : as %3A, % as %25).",
    );
    this.name = "InvalidUrlError";
  }
}

/**
 * Parse a URL that may carry credentials. Node's own TypeError keeps the whole input in
 * `error.input`, and loggers print it: a `#`, `?` or `/` in a password would end up in the logs.
 * The original error is dropped on purpose.
 */
export function parseCredentialUrl(url: string, name = "URL"): URL {
  try {
    return new URL(url);
  } catch {
    throw new InvalidUrlError(name);
  }
}

/** The same server URL with another database name: `mysql://root@host:3306` + `shop` -> `…/shop`. */
export function withDatabase(serverUrl: string, database: string): string {
  const parsed = parseCredentialUrl(serverUrl, "DATABASE_URL");
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}
