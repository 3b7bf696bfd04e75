// The package as a user gets it: the built bundles in dist/ (npm test builds them first), imported
// by name through the package's own `exports` map in a separate Node process, as an installed copy
// would be. Each test is one promise of docs/api.md ("Exports") or the README.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const run = promisify(execFile);

/** Runs an ES module in a fresh Node process inside the package (so `tether-ws` resolves to itself). */
async function node(source: string): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--input-type=module', '--eval', source], { cwd: ROOT, timeout: 10_000 });
}

/** The export list of one entry in docs/api.md's Exports table: the backticked names of `column`. */
function documentedValues(entry: string): string[] {
  const api = readFileSync(resolve(ROOT, 'docs/api.md'), 'utf8');
  const row = api.split('\n').find((line) => line.startsWith(`| \`${entry}\` |`));
  if (!row) throw new Error(`docs/api.md has no Exports row for ${entry}`);
  const values = row.split('|')[2] ?? '';
  // Only the names themselves, not the values given in brackets after them.
  return [...values.replace(/\([^)]*\)/g, '').matchAll(/`(\w+)`/g)].map((match) => match[1] as string).sort();
}

beforeAll(() => {
  for (const file of [
    'dist/tether-ws.js',
    'dist/exactly-once.js',
    'dist/websocket.js',
    'dist/persist.js',
    'dist/tether-ws.umd.js',
  ])
    if (!existsSync(resolve(ROOT, file))) throw new Error(`${file} is missing: run \`npm run build\` first.`);
});

describe('the built package', () => {
  it.each([
    ['tether-ws', 'tether-ws'],
    ['tether-ws/exactly-once', 'tether-ws/exactly-once'],
    ['tether-ws/websocket', 'tether-ws/websocket'],
    ['tether-ws/persist', 'tether-ws/persist'],
  ])('%s exports exactly the values docs/api.md lists', async (specifier, entry) => {
    const { stdout } = await node(`console.log(JSON.stringify(Object.keys(await import('${specifier}'))))`);
    expect(JSON.parse(stdout).sort()).toEqual(documentedValues(entry));
  });

  it('keeps the name of every exported class and function in the minified ES bundles', async () => {
    const { stdout } = await node(`
      const names = {};
      for (const entry of ['tether-ws', 'tether-ws/exactly-once', 'tether-ws/websocket', 'tether-ws/persist'])
        for (const [key, value] of Object.entries(await import(entry)))
          if (typeof value === 'function') names[key] = value.name;
      console.log(JSON.stringify(names));`);
    const names = JSON.parse(stdout) as Record<string, string>;
    expect(Object.keys(names)).toEqual(
      expect.arrayContaining([
        'WebSocketClient',
        'TetherError',
        'TetherRangeError',
        'jsonCodec',
        'exactlyOnce',
        'TetherWebSocket',
        'browserStore',
        'memoryStore',
      ]),
    );
    // tether-ws/websocket exports one class under three names (docs/websocket.md).
    const aliases = new Set(['WebSocket', 'default']);
    expect(
      Object.entries(names).filter(
        ([key, name]) => key !== name && !(aliases.has(key) && name === 'TetherWebSocket'),
      ),
    ).toEqual([]);
  });

  it('shows errors under their class names: inspect, constructor.name and stack frames', async () => {
    const { stdout } = await node(`
      import { inspect } from 'node:util';
      import { WebSocketClient } from 'tether-ws';
      try { new WebSocketClient('ws://127.0.0.1:1/', { reconnect: { jitter: 2 } }); }
      catch (error) {
        console.log(JSON.stringify({
          inspected: inspect(error).split('\\n')[0],
          constructor: error.constructor.name,
          newFrame: error.stack.split('\\n').find((line) => line.includes(' at new ')),
        }));
      }`);
    expect(JSON.parse(stdout)).toEqual({
      inspected: 'TetherRangeError: Invalid option "reconnect.jitter": got 2; expected a number from 0 to 1.',
      constructor: 'TetherRangeError',
      newFrame: expect.stringMatching(/^ {4}at new WebSocketClient \(/),
    });
  });

  it('throws at construction, not later as an uncaught exception, with autoOpen and no WebSocket (Node 20)', async () => {
    const { stdout } = await node(`
      import { WebSocketClient } from 'tether-ws';
      process.on('exit', (code) => console.log('exit', code));
      try { new WebSocketClient('ws://127.0.0.1:1/', { autoOpen: true }); console.log('constructed'); }
      catch (error) { console.log(error.name, error.code, error.argument); }
      setTimeout(() => console.log('still running'), 20);`);
    expect(stdout.trim().split('\n')).toEqual([
      'TetherTypeError INVALID_ARGUMENT WebSocket',
      'still running',
      'exit 0',
    ]);
  });

  it('loads tether-ws/tether-ws.umd.js in Node ESM as its types say: no named exports, the global TetherWS', async () => {
    const { stdout } = await node(`
      const bundle = await import('tether-ws/tether-ws.umd.js');
      const { TetherWS } = globalThis;
      console.log(JSON.stringify({
        named: Object.keys(bundle).filter((key) => key !== 'default'),
        client: TetherWS.WebSocketClient.name,
        exactlyOnce: typeof TetherWS.exactlyOnce,
        rangeError: TetherWS.TetherRangeError.name,
      }));`);
    expect(JSON.parse(stdout)).toEqual({
      named: [],
      client: 'WebSocketClient',
      exactlyOnce: 'function',
      rangeError: 'TetherRangeError',
    });
  });

  it('isTetherError recognises the errors of another copy of the library, where instanceof cannot', async () => {
    // Two copies in one realm: the ES bundle and the UMD bundle (a page with an npm build and a
    // CDN script). Each throws its own classes; one guard knows both.
    const { stdout } = await node(`
      const esm = await import('tether-ws');
      await import('tether-ws/tether-ws.umd.js');
      const umd = globalThis.TetherWS;
      const caught = (make) => { try { make(); } catch (error) { return error; } };
      const fromUmd = [
        caught(() => new umd.WebSocketClient(42)),
        caught(() => new umd.WebSocketClient('ws://x', { reconnect: { jitter: 2 } })),
        new umd.TetherError('CLOSED', 'closed'),
      ];
      console.log(JSON.stringify({
        names: fromUmd.map((error) => error.name),
        guard: fromUmd.map((error) => esm.isTetherError(error)),
        reverse: umd.isTetherError(caught(() => new esm.WebSocketClient(42))),
        instanceOf: fromUmd.map((error) => error instanceof esm.TetherError),
        others: [new Error('x'), new TypeError('x'), null, undefined, 'TetherError', { code: 'CLOSED' }]
          .map((value) => esm.isTetherError(value)),
      }));`);
    expect(JSON.parse(stdout)).toEqual({
      names: ['TetherTypeError', 'TetherRangeError', 'TetherError'],
      guard: [true, true, true],
      reverse: true,
      instanceOf: [false, false, false],
      others: [false, false, false, false, false, false],
    });
  });
});
