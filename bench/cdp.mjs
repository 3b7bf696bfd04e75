// A minimal Chrome DevTools Protocol client over one WebSocket (flat sessions). The bench talks to
// the browser through it instead of through Playwright's page objects, because those enable the
// Network domain, which reports every WebSocket frame to the driver (see README.md: the trap).
import WebSocket from 'ws';

export async function connectCdp(url) {
  const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 512 * 1024 * 1024 });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map();
  socket.on('message', (raw) => {
    const message = JSON.parse(raw.toString());
    // Events (no id) are not listened to: the bench only sends commands and reads their results.
    if (message.id === undefined) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) waiter?.reject(new Error(`${waiter.method}: ${message.error.message}`));
    else waiter?.resolve(message.result);
  });
  socket.on('close', () => {
    for (const waiter of pending.values())
      waiter.reject(new Error(`${waiter.method}: CDP connection closed`));
    pending.clear();
  });
  return {
    /** Sends a command (to the browser, or to an attached target when `sessionId` is given). */
    send(method, params = {}, sessionId = undefined) {
      const id = nextId++;
      socket.send(JSON.stringify({ id, method, params, sessionId }));
      return new Promise((resolve, reject) => pending.set(id, { resolve, reject, method }));
    },
    close() {
      socket.close();
    },
  };
}
