/**
 * `npm run ops -- <command>`: the operations CLI (`npm run ops -- --help`).
 *
 * The domain code logs JSON through Powertools at INFO and emits metrics as EMF lines on
 * stdout; here that would interleave with tables and break --json, so the CLI keeps only errors
 * (unless POWERTOOLS_LOG_LEVEL says otherwise) and no metrics. Both are read when the core
 * modules load, hence the dynamic import after setting them.
 */
process.env.POWERTOOLS_LOG_LEVEL ??= "ERROR";
// Metrics are EMF log lines on stdout: meaningful in a Lambda, noise (and broken --json) here.
process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
// The project runs on Node 20 by design; the SDK's "Node 22 from 2027" notice is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const { runOps } = await import("./program");
process.exitCode = await runOps(process.argv.slice(2));

export {};
