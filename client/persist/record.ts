import type { SendData } from 'tether-ws';
import type { StoredRecord } from './store.js';

/**
 * The stored form of an outbox (docs/persist.md, "What is stored"). Key 0 is the header, with the
 * format's version and the exactly-once session if there is one; keys 1, 2, … are the messages in
 * the order `send()` accepted them, each kept until it is written (best-effort) or acknowledged
 * (exactly-once). A page reads them once, when its client starts.
 */
export const FORMAT_VERSION = 1;
export const HEADER_KEY = 0;

/** What survives of an exactly-once session: enough for the next page to resume it. */
export interface StoredSession {
  id: string;
  key: string;
  /** Highest seq given to an outbound message. */
  sent: number;
  /** Highest seq received and delivered to the application. */
  received: number;
  /** Highest seq we told the server we had. */
  acknowledged: number;
  /** Highest seq of ours the server acknowledged. */
  peerAcked: number;
  /** When the session was last connected or changed (ms since the epoch): the resume window counts from here. */
  at: number;
}

export interface StoredHeader {
  v: number;
  session?: StoredSession;
}

export interface StoredMessage<Out = unknown> {
  /** Left out when it is the wire form itself (the default codec), so it is stored once. */
  data?: Out;
  wire: SendData;
  /** Its seq in the stored session, once it was written there. */
  seq?: number;
}

/** What `readRecords` found: the header, the messages oldest first, and what had to be left out. */
export interface StoredOutbox<Out = unknown> {
  session: StoredSession | undefined;
  /** Oldest first, each with the key it is stored under. */
  messages: Array<StoredMessage<Out> & { key: number }>;
  /** The key the next message gets. */
  nextKey: number;
  /** Records that are not of this format (corrupt, or written by hand): skipped, and reported. */
  skipped: number;
  /** Set when the header is of a newer format: nothing may be read or written (a newer page owns it). */
  newer?: number;
}

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

function isWire(value: unknown): value is SendData {
  return (
    typeof value === 'string' ||
    value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value) ||
    (typeof Blob !== 'undefined' && value instanceof Blob)
  );
}

function isSession(value: unknown): value is StoredSession {
  const s = value as StoredSession;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.id === 'string' &&
    typeof s.key === 'string' &&
    [s.sent, s.received, s.acknowledged, s.peerAcked, s.at].every(isCount)
  );
}

/**
 * Reads what a store returned. A record that is not of this format is skipped and counted, never
 * thrown on: storage is outside the page's control (another version, a user's devtools edit).
 */
export function readRecords<Out>(records: readonly StoredRecord[]): StoredOutbox<Out> {
  let session: StoredSession | undefined;
  let skipped = 0;
  let nextKey = HEADER_KEY + 1;
  const messages: Array<StoredMessage<Out> & { key: number }> = [];
  for (const [key, value] of records) {
    const record = value as Partial<StoredHeader & StoredMessage<Out>> | null;
    if (key === HEADER_KEY) {
      const v = record?.v;
      if (typeof v === 'number' && v > FORMAT_VERSION)
        return { session: undefined, messages: [], nextKey, skipped: 0, newer: v };
      if (v === FORMAT_VERSION && (record?.session === undefined || isSession(record.session)))
        session = record?.session;
      else skipped++;
    } else if (
      isCount(key) &&
      record &&
      isWire(record.wire) &&
      (record.seq === undefined || isCount(record.seq))
    ) {
      // A message stored without `data` had data === wire (the default codec): stored once.
      const data = ('data' in record ? record.data : record.wire) as Out;
      messages.push({ key, data, wire: record.wire, seq: record.seq });
      nextKey = Math.max(nextKey, key + 1);
    } else {
      skipped++;
    }
  }
  messages.sort((a, b) => a.key - b.key);
  return { session, messages, nextKey, skipped };
}

/** Bytes on the wire, as the queue counts them (UTF-8 for text). */
export const bytesOf = (wire: SendData): number =>
  typeof wire === 'string'
    ? new TextEncoder().encode(wire).length
    : ((wire as Blob).size ?? (wire as ArrayBuffer).byteLength);

/** A message's record; `data` left out when it is the wire form itself (the default codec). */
export function record(data: unknown, wire: SendData, seq?: number) {
  const value: { data?: unknown; wire: SendData; seq?: number } = { wire };
  if (data !== wire) value.data = data;
  if (seq !== undefined) value.seq = seq;
  return value;
}
