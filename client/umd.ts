// The UMD bundle (global `TetherWS`) is for pages without a bundler, which cannot pick entry points:
// it carries the core and every opt-in delivery mode.
export * from './exactly-once/index.js';
export * from './index.js';
