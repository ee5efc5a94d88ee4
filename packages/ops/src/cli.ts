/**
 * `npm run ops -- <command>`: the operations CLI (`npm run ops -- --help`).
 *
 * The domain code logs JSON through Powertools at INFO; here that would interleave with tables
 * and break --json, so the CLI keeps only errors unless POWERTOOLS_LOG_LEVEL says otherwise.
 * The level is read when the logger module loads, hence the dynamic import after setting it.
 */
process.env.POWERTOOLS_LOG_LEVEL ??= "ERROR";

const { runOps } = await import("./program");
process.exitCode = await runOps(process.argv.slice(2));
