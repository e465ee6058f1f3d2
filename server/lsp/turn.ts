// The next turn of the event loop, after the messages that came meanwhile have been handled. In
// Node, setImmediate. A browser worker has none, and a setTimeout(0) nested in another is delayed
// by 4 ms there, which a lint of many steps would pay at every one: a message it posts to itself
// is handled as soon as the messages before it.
type Turn = () => Promise<void>;

function messageTurn(): Turn {
  const channel = new MessageChannel();
  const waiting: (() => void)[] = [];
  // The DOM's MessagePort (the types at hand are Node's).
  (channel.port1 as unknown as { onmessage: () => void }).onmessage = () => waiting.shift()?.();
  return () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      channel.port2.postMessage(undefined);
    });
}

/** Resolves after pending I/O (incoming messages) has been handled. */
export const nextTurn: Turn = typeof setImmediate === 'function' ? () => new Promise<void>((resolve) => setImmediate(resolve)) : messageTurn();
