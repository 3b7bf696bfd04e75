// The UMD bundle (global `TetherWS`) is for pages without a bundler, which cannot pick entry points:
// it carries the core and every opt-in entry (exactly-once; the drop-in `TetherWS.WebSocket`,
// for pages that loaded reconnecting-websocket's or partysocket's script the same way).
export * from './exactly-once/index.js';
export * from './index.js';
export * from './websocket/index.js';
