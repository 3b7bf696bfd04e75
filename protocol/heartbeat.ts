/**
 * The application-level heartbeat (docs/protocol.md §6): text frames outside the sequence, never
 * acknowledged. They are also the core client's default `heartbeat.ping` / `isPong`, with or without
 * tether.v1, and the dev server answers them on every route. A file of their own because the core
 * bundle uses them and the exactly-once entry does not: a module both browser entries imported
 * would become a shared chunk beside them (scripts/check-package.mjs fails on one).
 */
export const PING = '__ping__';
export const PONG = '__pong__';
