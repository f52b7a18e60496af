/**
 * Resolves when a writable stream (an HTTP/2 stream, an HTTP/1.1 response,
 * a socket) emits "drain", or "close": the caller then writes on or stops.
 * Listeners are removed either way.
 */
export function waitForDrain(emitter: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      emitter.off("drain", done);
      emitter.off("close", done);
      resolve();
    };
    emitter.on("drain", done);
    emitter.on("close", done);
  });
}
