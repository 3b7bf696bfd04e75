import type { MessageData, SendData } from 'tether-ws';
import type { StoredRecord } from './store.js';

/**
 * The stored form of an outbox (docs/persist.md, "What is stored"). Key 0 is the header, with the
 * format's version and the exactly-once session if there is one; keys 1, 2, … are the messages in
 * the order `send()` accepted them, each kept until it is written (best-effort) or acknowledged
 * (exactly-once). Format 2 adds the inbox: each message from the server, under a key of its own,
 * from its arrival until its `message` listeners ran. A page reads them once, when its client starts.
 */
export const FORMAT_VERSION = 2;
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
  /** The number of the write that stored this header (every write stores it): see the journal. */
  w?: number;
  session?: StoredSession;
  /** Set by the write made in `pagehide`: every message the page delivered is marked handled. */
  left?: boolean;
}

/** A message from the server, stored before it is acknowledged, deleted once its listeners ran. */
export interface StoredInbound {
  in: MessageData;
  seq: number;
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
  /** Messages from the server not yet handled, by seq. */
  inbox: Array<StoredInbound & { key: number }>;
  /** The last page left by `pagehide` (not a crash): every message it delivered is marked handled. */
  left: boolean;
  /** The last write's number, in the store or the journal. */
  written: number;
  /** What the journal held that the store lacked: written again by the next write. */
  replay: StoredRecord[];
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

/**
 * A session of this format: strings and counts. Whether it can be valid on the wire (the id's and
 * key's patterns, 32-bit seqs) is the protocol's to say: the exactly-once layer's `restore()`
 * refuses one that cannot, and persist() reports it.
 */
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
 * Applies the journal (writer.ts): the writes it holds that the store lacks (numbered above the
 * stored header's `w`), in order. Returns what they changed, to be written again, and the number
 * of the last; `undefined` when the journal is not of this format.
 */
function applyJournal(
  records: Map<number, unknown>,
  journal: string,
): { replay: Map<number, unknown>; written: number } | undefined {
  let writes: Array<[number, StoredRecord[]]>;
  try {
    writes = JSON.parse(journal);
  } catch {
    return undefined;
  }
  if (!Array.isArray(writes)) return undefined;
  let written = (records.get(HEADER_KEY) as StoredHeader | undefined)?.w ?? 0;
  const replay = new Map<number, unknown>();
  for (const write of writes) {
    const [w, changes] = Array.isArray(write) ? write : [];
    if (!isCount(w) || !Array.isArray(changes)) return undefined;
    if (w <= written) continue;
    written = w;
    for (const [key, value] of changes as StoredRecord[]) {
      // JSON has no undefined: a deletion is null.
      const kept = value ?? undefined;
      replay.set(key, kept);
      if (kept === undefined) records.delete(key);
      else records.set(key, kept);
    }
  }
  return { replay, written };
}

/**
 * Reads what a store returned. A record that is not of this format is skipped and counted, never
 * thrown on: storage is outside the page's control (another version, a user's devtools edit).
 */
export function readRecords<Out>(stored: readonly StoredRecord[], journal?: string): StoredOutbox<Out> {
  let session: StoredSession | undefined;
  let skipped = 0;
  let nextKey = HEADER_KEY + 1;
  let left = false;
  const messages: Array<StoredMessage<Out> & { key: number }> = [];
  const inbox: Array<StoredInbound & { key: number }> = [];
  const all = new Map(stored);
  const newer = (all.get(HEADER_KEY) as StoredHeader | undefined)?.v;
  const empty = { session, messages, inbox, left, written: 0, replay: [], nextKey, skipped };
  if (typeof newer === 'number' && newer > FORMAT_VERSION) return { ...empty, newer };
  const journalled = journal === undefined ? undefined : applyJournal(all, journal);
  if (journal !== undefined && !journalled) skipped++;
  const written = journalled?.written ?? (all.get(HEADER_KEY) as StoredHeader | undefined)?.w ?? 0;
  for (const [key, value] of all) {
    const record = value as Partial<StoredHeader & StoredMessage<Out> & StoredInbound> | null;
    if (key === HEADER_KEY) {
      const v = record?.v;
      if ((v === 1 || v === FORMAT_VERSION) && (record?.session === undefined || isSession(record.session))) {
        session = record?.session;
        left = record?.left === true;
      } else skipped++;
    } else if (isCount(key) && record && 'in' in record && isCount(record.seq)) {
      inbox.push({ key, in: record.in as MessageData, seq: record.seq });
      nextKey = Math.max(nextKey, key + 1);
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
  inbox.sort((a, b) => a.seq - b.seq);
  const replay = [...(journalled?.replay ?? [])];
  return { session, messages, inbox, left, written, replay, nextKey, skipped };
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
