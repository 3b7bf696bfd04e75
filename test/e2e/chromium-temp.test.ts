/**
 * `npm test` must leave nothing in the temp folder. Chromium makes an `org.chromium.Chromium.*`
 * folder in TMPDIR and removes it only on a clean exit, so the tests that SIGKILL it (persist-crash)
 * left one per kill in /tmp. spawnChromium() gives it a TMPDIR of its own and removes it on kill().
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeWithBrowser, spawnChromium } from '../helpers/browser';

describeWithBrowser('Chromium killed by a test', () => {
  it('keeps its org.chromium.Chromium.* folder in a TMPDIR that kill() removes', async () => {
    const profile = mkdtempSync(join(tmpdir(), 'tether-profile-'));
    const chromium = await spawnChromium(profile);
    try {
      const page = await (chromium.browser.contexts()[0] ?? (await chromium.browser.newContext())).newPage();
      await page.goto('about:blank');
      expect(
        readdirSync(chromium.tmpDir).filter((name) => name.startsWith('org.chromium.Chromium.')),
      ).toHaveLength(1);
    } finally {
      await chromium.kill();
      rmSync(profile, { recursive: true, force: true });
    }
    expect(existsSync(chromium.tmpDir)).toBe(false);
  });
});
