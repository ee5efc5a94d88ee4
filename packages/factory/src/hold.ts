/** Holding back what falls due (callbacks, answers) until a test releases it. */

/** A hold on something that falls due (callbacks, answers): released all at once. */
export interface Hold {
  released: Promise<void>;
  release: () => void;
}

export function newHold(): Hold {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  return { released, release };
}
