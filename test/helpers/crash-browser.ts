/**
 * A Chromium of the test's own, for killing: started here rather than by playwright, so that the
 * test owns its process group and its profile folder (playwright's own launch deletes the profile
 * on close), and can SIGKILL the whole browser and start it again on the same profile.
 * Playwright connects over CDP.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { type Browser, chromium } from 'playwright-core';
import { CHROMIUM_ARGS, findChromium } from './browser';

const START_TIMEOUT_MS = 20_000;

/** Starts Chromium on `profile` in its own process group and connects to it. */
export async function launchOn(profile: string): Promise<{ browser: Browser; child: ChildProcess }> {
  const child = spawn(
    findChromium() as string,
    [
      ...CHROMIUM_ARGS,
      '--headless',
      `--user-data-dir=${profile}`,
      '--remote-debugging-port=0',
      'about:blank',
    ],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`Chromium did not start:\n${output}`)), START_TIMEOUT_MS);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk;
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    child.once('exit', (code) => reject(new Error(`Chromium exited (${code}):\n${output}`)));
  });
  return { browser: await chromium.connectOverCDP(endpoint), child };
}

/** SIGKILLs the browser's whole process group; resolves once it exited. */
export function killGroup(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    process.kill(-(child.pid as number), 'SIGKILL');
  });
}
