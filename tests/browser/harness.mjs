// What the browser test scripts share: a free loopback port, and waiting for a condition.

import net from "node:net";

/** A port free on 127.0.0.1 now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The first truthy value of `predicate`, polled every 100 ms for at most `waitMs`. */
export async function until(what, predicate, waitMs) {
  const end = Date.now() + waitMs;
  while (Date.now() < end) {
    const value = await predicate();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
