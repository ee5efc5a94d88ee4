/** A handler for the gateway's tests: answers with what the gateway put in the event (the verified caller, the body). */
export const handler = async (event: { requestContext: { authorizer?: unknown }; body?: string; rawQueryString?: string }) => ({
  statusCode: 200,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({
    authorizer: event.requestContext.authorizer ?? null,
    body: event.body ?? null,
    query: event.rawQueryString ?? "",
  }),
});
