#!/usr/bin/env node
// The misbehaving and the well-behaved peers of scripts/memory-bound.mjs, run in a child process
// so that what they receive does not count in the adapter's process, which is measured.
//   node scripts/memory-clients.mjs silent <port> <sessions> <messages>
//     each session receives <messages> binary messages, never acknowledges, then drops TCP
//     without a close frame: the adapter holds it detached for its resume window.
//   node scripts/memory-clients.mjs acking <port> <sessions> <messages> <size>
//     each session sends <messages> × <size> B to the echo, 4 in flight, and acknowledges every
//     echo; once the last ack is handled (a pong after it) it reports, and keeps its connection
//     open until the parent kills this process: the sessions stay held while they are measured.
// Reports { received } to the parent (process.send) when every session is done.
import WebSocket from 'ws';

const [mode, port, sessions, messages, size] = process.argv.slice(2);
const url = `ws://127.0.0.1:${port}/`;
const run = mode === 'acking' ? acking : silent;
const counts = await Promise.all(
  Array.from({ length: Number(sessions) }, (_, i) => run(`memory-${mode}-${i}-${process.pid}`)),
);
process.send({ received: counts.reduce((a, b) => a + b, 0) });

function open(sid) {
  const ws = new WebSocket(`${url}?tether_sid=${sid}`, ['tether.v1']);
  ws.on('open', () =>
    ws.send(`h${JSON.stringify({ v: 1, sid, recv: 0, key: `${sid}-key-0123456789abcdef` })}`),
  );
  return ws;
}

function silent(sid) {
  return new Promise((resolve) => {
    const ws = open(sid);
    let count = 0;
    const drop = () => {
      clearTimeout(timer);
      ws._socket?.destroy(); // TCP gone, no close frame: the session stays held, detached
      resolve(count);
    };
    const timer = setTimeout(drop, 20_000);
    ws.on('message', (_data, isBinary) => {
      if (isBinary && ++count === Number(messages)) drop(); // never acknowledged
    });
    ws.on('close', drop);
    ws.on('error', drop);
  });
}

function acking(sid) {
  return new Promise((resolve, reject) => {
    const ws = open(sid);
    const total = Number(messages);
    let sent = 0;
    let echoed = 0;
    const sendNext = () => {
      if (sent === total) return;
      sent += 1;
      const frame = Buffer.alloc(5 + Number(size), sent);
      frame[0] = 0x6d; // 'm', then the seq (docs/protocol.md §2)
      frame.writeUInt32BE(sent, 1);
      ws.send(frame);
    };
    const timer = setTimeout(
      () => reject(new Error(`${sid}: ${echoed} of ${total} echoes in 120 s`)),
      120_000,
    );
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        const text = String(data);
        if (text.startsWith('w')) for (let i = 0; i < 4; i++) sendNext();
        if (text === '__pong__') {
          clearTimeout(timer);
          resolve(echoed);
        }
        return;
      }
      echoed += 1;
      ws.send(`a${data.readUInt32BE(1)}`);
      sendNext();
      if (echoed === total) ws.send('__ping__'); // its pong: the last ack is handled
    });
    ws.on('close', (code) => reject(new Error(`${sid}: closed with ${code} after ${echoed} echoes`)));
    ws.on('error', reject);
  });
}
