// One adapter per library, all with the same shape, so the measurements never branch on the
// library: `(lib, url, settings, on) => ({ send(data), close() })`, where `on` has `open()`,
// `message(data)` and `close()`. Each adapter calls its library the way its README shows;
// `send` may throw (the measurements count that as a message not taken).

export const ADAPTERS = {
  raw(_lib, url, _settings, on) {
    const socket = new WebSocket(url);
    socket.onopen = () => on.open();
    socket.onmessage = (event) => on.message(event.data);
    socket.onclose = () => on.close();
    return { send: (data) => socket.send(data), close: () => socket.close() };
  },

  // `settings.exactlyOnce` (tether-ws exactly-once): the options of `exactlyOnce()`, made here
  // because settings arrive as JSON; its bundle exports `exactlyOnce` next to the core.
  'tether-ws'(lib, url, { exactlyOnce, ...settings }, on) {
    const options = exactlyOnce ? { ...settings, delivery: lib.exactlyOnce(exactlyOnce) } : settings;
    const client = new lib.WebSocketClient(url, options);
    client.on('open', () => on.open());
    client.on('message', (data) => on.message(data));
    client.on('close', () => on.close());
    client.open();
    return { send: (data) => client.send(data), close: () => void client.close() };
  },

  'reconnecting-websocket'(lib, url, settings, on) {
    return eventTargetClient(new lib.default(url, [], settings), on);
  },

  partysocket(lib, url, settings, on) {
    return eventTargetClient(new lib.default(url, [], settings), on);
  },

  sockette(lib, url, settings, on) {
    const client = lib.default(url, {
      ...settings,
      onopen: () => on.open(),
      onmessage: (event) => on.message(event.data),
      onclose: () => on.close(),
    });
    return { send: (data) => client.send(data), close: () => client.close() };
  },

  'websocket-ts'(lib, url, settings, on) {
    const client = new lib.WebsocketBuilder(url)
      .withBackoff(new lib.ConstantBackoff(settings.backoffMs))
      .withBuffer(new lib.ArrayQueue())
      .onOpen(() => on.open())
      .onMessage((_socket, event) => on.message(event.data))
      .onClose(() => on.close())
      .build();
    return { send: (data) => client.send(data), close: () => client.close() };
  },
};

/** reconnecting-websocket and partysocket/ws mirror the `WebSocket` API. */
function eventTargetClient(socket, on) {
  socket.addEventListener('open', () => on.open());
  socket.addEventListener('message', (event) => on.message(event.data));
  socket.addEventListener('close', () => on.close());
  return { send: (data) => socket.send(data), close: () => socket.close() };
}
