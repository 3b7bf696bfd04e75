/**
 * tether-ws/websocket's compatibility suite (test/helpers/websocket-compat.ts) in Node, with
 * `ws` as the global `WebSocket`, against real `ws` servers on 127.0.0.1.
 */
import ws from 'ws';
import { compatSuite } from '../helpers/websocket-compat.js';

compatSuite({ name: 'Node, ws', Native: ws as never });
