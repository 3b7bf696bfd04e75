// Chromium for the measured pages. playwright-core launches the system Chromium (never a download)
// with the tests' flags, plus a DevTools port for the bench's own CDP connection. Pages are made
// through that connection, each in a fresh browser context, and nothing attaches to them: Playwright
// auto-attaches to new targets but lets go of pages outside its own contexts, and the bench attaches
// only when asked to profile, and then enables the Profiler domain alone. So no Network domain is
// ever enabled on a measured page, and its WebSocket frames are not reported to anybody.
import { createServer } from 'node:net';
import { chromium } from 'playwright-core';
import { connectCdp } from './cdp.mjs';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Launches Chromium; returns `{ version, openPage(url), profile(page, run), close() }`. */
export async function launchChromium({ CHROMIUM_ARGS, findChromium }) {
  const executablePath = findChromium();
  if (!executablePath)
    throw new Error('No Chromium: install it (apt-get install -y chromium) or set CHROME_PATH.');
  const port = await freePort();
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, `--remote-debugging-port=${port}`, '--remote-debugging-address=127.0.0.1'],
  });
  let cdp;
  try {
    const info = await (await fetch(`http://127.0.0.1:${port}/json/version`)).json();
    cdp = await connectCdp(info.webSocketDebuggerUrl);
  } catch (error) {
    await browser.close();
    throw error;
  }
  return {
    version: browser.version(),
    /** Opens `url` in a new page of a new browser context; `close()` disposes of both. */
    async openPage(url) {
      const { browserContextId } = await cdp.send('Target.createBrowserContext');
      const close = () => cdp.send('Target.disposeBrowserContext', { browserContextId }).catch(() => {});
      try {
        const { targetId } = await cdp.send('Target.createTarget', { url, browserContextId });
        return { targetId, close };
      } catch (error) {
        await close();
        throw error;
      }
    },
    /**
     * Records a CPU profile of `page` while `run()` runs: attaches to the page, enables the Profiler
     * domain only (sampling every 100 µs), and detaches afterwards. Resolves with the profile.
     */
    async profile(page, run) {
      const { sessionId } = await cdp.send('Target.attachToTarget', {
        targetId: page.targetId,
        flatten: true,
      });
      await cdp.send('Profiler.enable', {}, sessionId);
      await cdp.send('Profiler.setSamplingInterval', { interval: 100 }, sessionId);
      await cdp.send('Profiler.start', {}, sessionId);
      const result = await run();
      const { profile } = await cdp.send('Profiler.stop', {}, sessionId);
      await cdp.send('Target.detachFromTarget', { sessionId });
      return { result, profile };
    },
    async close() {
      cdp.close();
      await browser.close();
    },
  };
}
