// Types of the `tether-ws/tether-ws.umd.js` subpath. The UMD bundle has no ES exports: loaded as a
// module (Node ESM, a bundler) or by a <script> tag, it defines the global `TetherWS` and nothing
// else, so these types declare that global and export nothing. `import { WebSocketClient } from
// 'tether-ws/tether-ws.umd.js'` therefore fails to compile, as it would fail to run.
import type * as Bundle from './umd.js';

declare global {
  /** The UMD bundle's namespace: the core and `exactlyOnce()` (see client/umd.ts). */
  var TetherWS: typeof Bundle;
}
