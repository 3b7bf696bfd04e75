/**
 * tether-ws/websocket's compatibility suite (test/helpers/websocket-compat.ts) in jsdom: the
 * class is then jsdom's EventTarget and dispatches jsdom's MessageEvent / CloseEvent. The socket
 * underneath is `ws`, the global `WebSocket` for the suite: the one vitest's jsdom environment
 * exposes (undici's) cannot dispatch its own events there ("The "event" argument must be an
 * instance of Event": jsdom's Event is not Node's).
 */
import ws from 'ws';
import { compatSuite } from '../helpers/websocket-compat.js';

compatSuite({ name: 'jsdom', Native: ws as never });
