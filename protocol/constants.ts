/**
 * The names, limits and frame kinds of the tether.v1 resume protocol (docs/protocol.md), defined
 * here once for every side that speaks it: the browser client (client/exactly-once/), the Node
 * adapter (adapter/), the dev server's heartbeat (server/) and the tests' wire peer
 * (test/helpers/tether-wire.ts); the heartbeat strings are heartbeat.ts. Values only: no Node or DOM API, so each side's build keeps just
 * the constants it uses.
 */

/** The subprotocol name, offered and selected in `Sec-WebSocket-Protocol` (§2). */
export const TETHER_PROTOCOL = 'tether.v1';
/** The query parameter carrying the session id, so a load balancer can route a session (§2). */
export const SESSION_PARAM = 'tether_sid';
/** The `v` of hello and welcome frames (§3). */
export const PROTOCOL_VERSION = 1;
/** Sequence numbers are unsigned 32-bit integers; 0 means "nothing yet" (§1). */
export const MAX_SEQ = 0xffff_ffff;
/** `4294967295` has 10 digits: a longer number in a frame is malformed without reading it all. */
export const MAX_SEQ_DIGITS = 10;
/** Session ids: 1 to 64 characters of base64url (§1). */
export const SID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Session keys: 16 to 128 characters of base64url, at least 96 bits (§4). */
export const KEY_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

/** The first character of each text frame (§3). */
export const HELLO = 'h';
export const WELCOME = 'w';
export const MESSAGE = 'm';
export const ACK = 'a';
/** The whole bye frame. */
export const BYE = 'x';

/** First byte of a binary message frame (`m`, as a byte), followed by the seq as uint32 big-endian. */
export const BINARY_MESSAGE = 0x6d;
/** The binary message header: {@link BINARY_MESSAGE}, then 4 bytes of seq. */
export const BINARY_HEADER_BYTES = 5;
