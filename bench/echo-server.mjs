// Child process: a bare `ws` echo server on 127.0.0.1, port 0. Text stays text, binary stays binary,
// and the heartbeat ping `__ping__` is answered with `__pong__`, like the dev server does, so the
// tether-ws heartbeat has an answer. Prints {"port":N} when listening; SIGTERM stops it.
import { WebSocketServer } from 'ws';

const PING = '__ping__';
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });

wss.on('connection', (socket) => {
  socket.on('error', () => {});
  socket.on('message', (data, isBinary) => {
    if (!isBinary && data.length === PING.length && data.toString() === PING) socket.send('__pong__');
    else socket.send(data, { binary: isBinary });
  });
});

wss.on('listening', () => console.log(JSON.stringify({ port: wss.address().port })));
process.on('SIGTERM', () => {
  for (const client of wss.clients) client.terminate();
  wss.close(() => process.exit(0));
});
