/** A handler with module-level state, for the local runtime's tests: each instance counts its own calls. */
let calls = 0;

export const handler = async (event: { holdMs?: number }) => {
  calls++;
  const seen = calls;
  if (event.holdMs) await new Promise((resolve) => setTimeout(resolve, event.holdMs));
  return { calls: seen };
};
