/**
 * Each server of a local stack listens on a port named by one environment variable. When the
 * port is taken (a second copy of the stack, a leftover process), the error says which variable
 * moves it, instead of a bare `listen EADDRINUSE` with a stack trace.
 */
/** Errors from `listen` that the person starting the stack can fix with a setting. */
const LISTEN_PROBLEMS: Record<string, (where: string, heldBy: string) => string> = {
  EADDRINUSE: (where, heldBy) => `${where} is already in use (${heldBy})`,
  EACCES: (where) => `${where} may not be opened by this user (ports below 1024 need privileges)`,
  EADDRNOTAVAIL: (where) => `${where} is not an address of this machine`,
};

export class PortInUseError extends Error {
  constructor(
    readonly variable: string,
    readonly host: string,
    readonly port: number,
    readonly code: string,
    hostVariable: string,
    heldBy = "another program",
  ) {
    const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
    const fix =
      code === "EADDRNOTAVAIL"
        ? `set ${hostVariable} to an address of this machine (default 127.0.0.1)`
        : `stop what holds it, or set ${variable} to a free port (0 = any free port)`;
    super(`${variable}: ${LISTEN_PROBLEMS[code]?.(where, heldBy) ?? `cannot listen on ${where} (${code})`}; ${fix}.`);
    this.name = "PortInUseError";
  }
}

function listenErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && code in LISTEN_PROBLEMS ? code : undefined;
}

export interface ListenAt {
  host: string;
  port: number;
  /** The variable setting `host` (default HOST), named when the address is unusable. */
  hostVariable?: string;
  /** What likely holds a port in use (default "another program"). */
  heldBy?: string;
}

/**
 * Run `start` (which listens on `host:port`) and turn a listen error into one that names the
 * variable setting the port (and `hostVariable` for an unusable address).
 */
export async function listeningOn<T>(
  variable: string,
  { host, port, hostVariable = "HOST", heldBy }: ListenAt,
  start: () => Promise<T>,
): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const code = listenErrorCode(error);
    if (code) throw new PortInUseError(variable, host, port, code, hostVariable, heldBy);
    throw error;
  }
}
