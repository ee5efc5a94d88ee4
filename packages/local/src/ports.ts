import { type ListenAt, listeningOn as listen } from "@donut-states/emulators/ports";

/** The emulators' listeningOn, naming the likeliest holder of a busy port: a second `npm start`. */
export function listeningOn<T>(variable: string, at: ListenAt, start: () => Promise<T>): Promise<T> {
  return listen(variable, { heldBy: "another `npm start`, or another program", ...at }, start);
}
