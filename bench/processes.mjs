// Child processes of the bench (echo servers, load generator). Each prints one JSON line on stdout
// when it is ready ({ "port": N } or its result); the parent waits for that line, with a deadline.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const BENCH_DIR = import.meta.dirname;

/**
 * Starts `node bench/<script> ...args` and resolves with `{ child, message }` once the child has
 * printed its first JSON line. Rejects if it exits first or takes longer than `timeoutMs`.
 */
export async function startChild(script, args = [], { timeoutMs = 15_000 } = {}) {
  const child = spawn(process.execPath, [join(BENCH_DIR, script), ...args.map(String)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const message = await new Promise((resolve, reject) => {
    // The caller gets no child to stop when this rejects, so a child still running is killed here.
    const fail = (error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new Error(`${script} printed nothing within ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.once('exit', (code) => fail(new Error(`${script} exited with ${code} before reporting`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line));
      } catch {
        fail(new Error(`${script} printed ${JSON.stringify(line)}, not JSON`));
      }
    });
  });
  return { child, message };
}

/** Runs a child to completion and returns the JSON it printed. */
export async function runChild(script, args, options) {
  const { child, message } = await startChild(script, args, options);
  if (child.exitCode === null) await once(child, 'exit');
  return message;
}

/** Stops a child started by {@link startChild} (SIGTERM, then SIGKILL after a second). */
export async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 1_000);
  await exited;
  clearTimeout(timer);
}
