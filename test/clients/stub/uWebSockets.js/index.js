'use strict';
// @deepstream/server only loads uWebSockets.js when its uws endpoint or
// server is configured; the adapter tests configure the ws-binary endpoint
// on Node's own HTTP server, so any use of this stand-in is a test error.
module.exports = new Proxy({}, {
  get(_target, name) {
    if (name === '__esModule' || typeof name === 'symbol') return undefined;
    throw new Error(`uWebSockets.js is not installed (asked for ${String(name)}); configure the ws-binary endpoint`);
  },
});
