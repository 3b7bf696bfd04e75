// The measurements, as run inside the page. Every message is 64 bytes of text: an 8-digit sequence
// number and padding, so each echo can be checked for loss, duplication and order. Times that the
// bench compares with its own clock are epoch milliseconds (`timeOrigin + now()`); durations measured
// inside the page use `performance.now()` (5 µs resolution: the page is cross-origin isolated).

const PAD = 'x'.repeat(56);
const message = (seq) => String(seq).padStart(8, '0') + PAD;
const seqOf = (data) => (typeof data === 'string' ? Number(data.slice(0, 8)) : -1);
const epoch = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with `promise`'s value, or with `undefined` after `ms`. */
function within(promise, ms) {
  let timer;
  return Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

function deferred() {
  let resolve;
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
}

/** Opens a client and waits for its first `open` (the library's, not the socket's). */
async function openClient(connect, url, settings, handlers, timeoutMs = 5_000) {
  const opened = deferred();
  const client = connect(url, settings, {
    open: () => {
      handlers.open?.();
      opened.resolve(true);
    },
    close: () => handlers.close?.(),
    message: handlers.message,
  });
  if (!(await within(opened.promise, timeoutMs))) throw new Error(`not open within ${timeoutMs} ms`);
  return client;
}

/** Counts echoes of sequence numbers below `capacity`: distinct, duplicated, out of order. */
function tracker(capacity) {
  const seen = new Uint8Array(capacity);
  const state = { received: 0, duplicated: 0, outOfOrder: 0, highest: -1, lastEchoAt: 0 };
  return {
    state,
    seen,
    echo(data) {
      const seq = seqOf(data);
      if (!(seq >= 0 && seq < capacity)) return; // not one of ours (nothing counts these)
      state.lastEchoAt = epoch();
      if (seen[seq]) state.duplicated += 1;
      else {
        seen[seq] = 1;
        state.received += 1;
        if (seq < state.highest) state.outOfOrder += 1;
      }
      if (seq > state.highest) state.highest = seq;
    },
    /** Waits until `count` distinct echoes have arrived, or until the epoch time `deadline`. */
    async waitFor(count, deadline) {
      while (state.received < count && epoch() < deadline) await sleep(10);
      return state.received >= count;
    },
  };
}

export const MEASUREMENTS = {
  /**
   * N messages sent in one synchronous loop, as fast as `send()` returns; messages per second from
   * the first send to the last echo. Valid only if every echo came back once, in order.
   */
  async throughput(connect, { url, settings, messages, timeoutMs }) {
    const payloads = Array.from({ length: messages }, (_, i) => message(i));
    let expected = 0;
    let wrong = 0;
    const finished = deferred();
    const client = await openClient(connect, url, settings, {
      message(data) {
        if (seqOf(data) !== expected) wrong += 1;
        expected += 1;
        if (expected === messages) finished.resolve(performance.now());
      },
    });
    let threw = 0;
    const start = performance.now();
    for (let i = 0; i < messages; i++) {
      try {
        client.send(payloads[i]);
      } catch {
        threw += 1;
      }
    }
    const end = await within(finished.promise, timeoutMs);
    client.close();
    const ok = end !== undefined && wrong === 0 && threw === 0;
    return {
      ok,
      messagesPerSecond: ok ? (messages / (end - start)) * 1000 : 0,
      received: expected,
      wrong,
      threw,
    };
  },

  /** Sequential round trips (the next message goes out from the echo's listener); RTTs in µs. */
  async latency(connect, { url, settings, warmup, roundTrips }) {
    const total = warmup + roundTrips;
    const rtts = new Float64Array(roundTrips);
    const done = deferred();
    let seq = 0;
    let sentAt = 0;
    let wrong = 0;
    let client;
    const next = () => {
      sentAt = performance.now();
      client.send(message(seq));
    };
    client = await openClient(connect, url, settings, {
      message(data) {
        const rtt = performance.now() - sentAt;
        if (seqOf(data) !== seq) wrong += 1;
        if (seq >= warmup) rtts[seq - warmup] = rtt * 1000;
        seq += 1;
        if (seq < total) next();
        else done.resolve(true);
      },
    });
    next();
    const ok = await within(done.promise, 60_000);
    client.close();
    if (!ok || wrong > 0) return { ok: false, wrong, completed: seq };
    const sorted = Array.from(rtts).sort((a, b) => a - b);
    const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    return { ok: true, p50: at(0.5), p99: at(0.99) };
  },

  /**
   * N messages handed to the client while its server is unreachable (the bench's proxy refuses
   * connections), then the bench lets connections through; time from then until every echo is
   * back, and what was lost or duplicated.
   */
  async offline(connect, { url, settings, messages, drainMs }, channel) {
    const track = tracker(messages);
    const client = connect(url, settings, { open() {}, close() {}, message: (data) => track.echo(data) });
    let threw = 0;
    for (let i = 0; i < messages; i++) {
      try {
        client.send(message(i));
      } catch {
        threw += 1;
      }
    }
    channel.note('sent');
    const lifted = await channel.next();
    const complete = await track.waitFor(messages, lifted.t + drainMs);
    client.close();
    const { received, duplicated, outOfOrder, lastEchoAt } = track.state;
    return {
      complete,
      msToAllEchoes: complete ? lastEchoAt - lifted.t : undefined,
      lost: messages - received,
      duplicated,
      outOfOrder,
      threw,
    };
  },

  /**
   * The page keeps sending one message every `intervalMs` while the bench breaks the connection
   * (reconnect: reset and refuse; half-open: black hole) and later repairs it. Reports when the
   * client noticed (its first `close` after the fault) and was open again, and which messages were
   * lost: those sent before the fault (in flight), during the outage (fault to reopen) and after.
   */
  async stream(connect, { url, settings, intervalMs, tailMs, drainMs, reopenGraceMs, capacity }, channel) {
    const track = tracker(capacity);
    const opens = [];
    const closes = [];
    const client = await openClient(connect, url, settings, {
      open: () => opens.push(epoch()),
      close: () => closes.push(epoch()),
      message: (data) => track.echo(data),
    });
    const sentAt = [];
    let threw = 0;
    const timer = setInterval(() => {
      if (sentAt.length >= capacity) return;
      const seq = sentAt.length;
      sentAt.push(epoch());
      try {
        client.send(message(seq));
      } catch {
        threw += 1;
      }
    }, intervalMs);
    channel.note('streaming');
    const fault = await channel.next();
    const lifted = await channel.next();
    const reopenedAt = () => opens.find((t) => t > fault.t);
    while (reopenedAt() === undefined && epoch() < lifted.t + reopenGraceMs) await sleep(10);
    await sleep(tailMs);
    clearInterval(timer);
    await track.waitFor(sentAt.length, epoch() + drainMs);
    client.close();

    const reopened = reopenedAt();
    // Noticing the fault means closing while it lasts; a close after it ended is something else.
    const noticed = closes.find((t) => t > fault.t && t <= lifted.t);
    const closedLater = closes.find((t) => t > lifted.t);
    const phases = { before: [0, 0], outage: [0, 0], after: [0, 0] };
    sentAt.forEach((t, seq) => {
      const phase = t < fault.t ? 'before' : reopened === undefined || t < reopened ? 'outage' : 'after';
      phases[phase][0] += 1;
      phases[phase][1] += track.seen[seq];
    });
    const lost = (phase) => phases[phase][0] - phases[phase][1];
    return {
      liftReason: lifted.reason,
      noticedMs: noticed === undefined ? undefined : noticed - fault.t,
      closedAfterFaultEndedMs: closedLater === undefined ? undefined : closedLater - lifted.t,
      reopenedMs: reopened === undefined ? undefined : reopened - fault.t,
      reopenedAfterLiftMs: reopened === undefined ? undefined : reopened - lifted.t,
      sent: sentAt.length,
      outageSent: phases.outage[0],
      lostInFlight: lost('before'),
      lostOutage: lost('outage'),
      lostAfter: lost('after'),
      duplicated: track.state.duplicated,
      outOfOrder: track.state.outOfOrder,
      threw,
    };
  },
};
