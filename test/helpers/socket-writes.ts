import net from 'node:net';

/**
 * Counts the TCP socket writes (each one a send to a server) during `work` that `counts` accepts;
 * a round trip to the database starts with one write, so this counts round trips, pipelined
 * statements sharing one. Pipes (the test runner's stdout) have no remote address and never count.
 */
export async function countSocketWrites(work: () => Promise<unknown>, counts: (socket: net.Socket) => boolean = (socket) => socket.remoteAddress !== undefined): Promise<number> {
  const prototype = net.Socket.prototype as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
  const originals = { _write: prototype._write, _writev: prototype._writev };
  let writes = 0;
  for (const method of ['_write', '_writev'] as const) {
    prototype[method] = function (this: net.Socket, ...args: unknown[]) {
      if (counts(this)) writes++;
      return originals[method].apply(this, args);
    };
  }
  try {
    await work();
    return writes;
  } finally {
    Object.assign(prototype, originals);
  }
}
