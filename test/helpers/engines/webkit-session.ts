/**
 * The processes behind the WebKit driver: an Xvfb display of our own, and per WebDriver session a
 * `WebKitWebDriver` (run detached: it and the MiniBrowser it starts end together, as one process
 * group) with the session it serves.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Builder, type WebDriver } from 'selenium-webdriver';

export const WEBKIT_DRIVER = '/usr/bin/WebKitWebDriver';
export const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
export const XVFB = '/usr/bin/Xvfb';
export const VIEWPORT = { width: 1280, height: 720 };
/** How long a new session (a MiniBrowser starting) may take; about 1 s on an idle machine. */
const SESSION_MS = 20_000;

/** A port that was free a moment ago, for the driver to listen on. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Ends a process with SIGTERM; resolves once it has exited. */
export function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Starts Xvfb on a display number it picks itself (`-displayfd`). */
export async function startXvfb(): Promise<{ display: string; child: ChildProcess }> {
  const child = spawn(XVFB, ['-displayfd', '3', '-screen', '0', '1920x1080x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  const display = await new Promise<string>((resolve, reject) => {
    let output = '';
    let errors = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb did not start:\n${errors}`)), 10_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk;
    });
    child.stdio[3]?.on('data', (chunk: Buffer) => {
      output += chunk;
      if (output.includes('\n')) {
        clearTimeout(timer);
        resolve(`:${output.trim()}`);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code}):\n${errors}`));
    });
  });
  return { display, child };
}

/** Rejects with `what` when `promise` takes longer than `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Ends a driver and the MiniBrowser it started: the whole process group (it runs detached). */
export function stopGroup(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      resolve();
    }
  });
}

/** One WebDriver session: a driver process, a MiniBrowser, its tabs. */
async function trySession(display: string): Promise<{ driver: WebDriver; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(WEBKIT_DRIVER, [`--port=${port}`, '--host=127.0.0.1'], {
    env: { ...process.env, DISPLAY: display },
    stdio: ['ignore', 'ignore', 'ignore'],
    detached: true,
  });
  try {
    const server = `http://127.0.0.1:${port}`;
    const deadline = performance.now() + 10_000;
    for (;;) {
      const ready = await fetch(`${server}/status`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) break;
      if (child.exitCode !== null || performance.now() > deadline)
        throw new Error(`WebKitWebDriver did not answer on ${server}`);
      await new Promise<void>((resolve) => setTimeout(resolve, 25));
    }
    const driver = await within(
      new Builder()
        .usingServer(server)
        .withCapabilities({
          browserName: 'MiniBrowser',
          // Full screen: with its toolbar MiniBrowser cannot be narrower than 447 px, and the window
          // size is then the viewport.
          'webkitgtk:browserOptions': {
            binary: MINIBROWSER,
            args: ['--automation', '--full-screen', '--javascript-can-open-windows-automatically=true'],
          },
        })
        .build(),
      SESSION_MS,
      'Starting MiniBrowser through WebKitWebDriver',
    );
    // Bounded, so that a page that never answers fails its test with a message, not a timeout.
    await driver.manage().setTimeouts({ script: 30_000, pageLoad: 30_000 });
    await driver.manage().window().setRect(VIEWPORT);
    return { driver, child };
  } catch (error) {
    await stopGroup(child);
    throw error;
  }
}

/**
 * A new session, tried twice: on a loaded machine a new-session request has hung once (the
 * MiniBrowser never came up), which one more try gets past.
 */
export async function startSession(display: string): Promise<{ driver: WebDriver; child: ChildProcess }> {
  try {
    return await trySession(display);
  } catch (error) {
    console.warn(`[tether-ws] WebKit session failed, trying again: ${error}`);
    return trySession(display);
  }
}
