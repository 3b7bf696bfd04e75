// A clean checkout of this repository, as a fresh `git clone` would give: the files git tracks (as
// they are in the working tree, so uncommitted edits count), and nothing else: no dist/, nothing
// ignored or untracked. The repository's node_modules is linked in rather than installed, so the
// checkout costs no network and a few seconds.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Copies the tracked files of `root` into a new temporary folder; `remove()` deletes it. */
export function cleanCheckout(root) {
  const dir = mkdtempSync(join(tmpdir(), 'tether-clean-'));
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0');
  for (const file of tracked) {
    // A file deleted in the working tree but not yet in git's index is gone from a clone too.
    if (!file || !existsSync(join(root, file))) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(root, file), join(dir, file));
  }
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Runs `npm <args>` in `cwd` as a person would in a terminal, until `ready` matches its output;
 * then stops it (its whole process group: npm runs scripts through a shell, see CONTRIBUTING.md, "Toolchain traps") and
 * resolves with that output. Rejects if it exits first or nothing matches within `timeoutMs`.
 */
export function npmUntil(cwd, args, ready, { env = {}, timeoutMs = 20_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', args, { cwd, env: { ...process.env, ...env }, detached: true });
    let output = '';
    const stop = () => {
      clearTimeout(timer);
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`npm ${args.join(' ')}: no ${ready} within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const read = (chunk) => {
      output += chunk;
      if (ready.test(output)) {
        stop();
        resolve(output);
      }
    };
    child.stdout.setEncoding('utf8').on('data', read);
    child.stderr.setEncoding('utf8').on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm ${args.join(' ')} exited with ${code} before ${ready}:\n${output}`));
    });
  });
}
