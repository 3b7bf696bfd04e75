// Measurement 7: echo throughput of the dev server against a bare `ws` echo server, each in its own
// process, driven by a load generator in a third process, interleaved per round and client count.
import { runChild, startChild, stopChild } from './processes.mjs';

const SERVERS = [
  { name: 'bare-ws', script: 'echo-server.mjs' },
  { name: 'dev-server', script: 'dev-server.mjs' },
];

/** Returns `{ [clients]: { 'bare-ws': number[], 'dev-server': number[] } }` in messages per second. */
export async function measureServers({ clients, window, messageBytes }, { rounds, durationMs }, log) {
  const results = {};
  for (let round = 0; round < rounds; round++) {
    for (const count of clients) {
      results[count] ??= {};
      const order = round % 2 === 0 ? SERVERS : [...SERVERS].reverse();
      for (const server of order) {
        const { child, message } = await startChild(server.script);
        try {
          const result = await runChild(
            'load-client.mjs',
            [message.port, count, window, messageBytes, durationMs],
            { timeoutMs: durationMs + 30_000 },
          );
          if (result.closed > 0)
            throw new Error(`${server.name}: ${result.closed} of ${count} load clients were closed`);
          results[count][server.name] ??= [];
          results[count][server.name].push(result.messagesPerSecond);
          log(`server ${server.name} ${count} clients: ${Math.round(result.messagesPerSecond)} msg/s`);
        } finally {
          await stopChild(child);
        }
      }
    }
  }
  return results;
}
