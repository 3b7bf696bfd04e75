// The tutorial's echo page, rebuilt on tether-ws. A plain script on top of the UMD build (the global
// `TetherWS`), as a user of the library would write it: no framework, no build step. log.js (loaded
// first) renders the log.
//
// What it shows: the client's state (with the retry countdown), the outbound queue, a log in which
// each sent message turns "delivered" when its echo comes back, and every step of the connection
// (open, each close with its code and reason, retries, sessions new, resumed or lost). The echo
// server answers in order on one connection, so echoes are matched to sent messages first in, first out.
//
// The Delivery switch picks the server endpoint and the client's delivery mode: the plain echo at
// `/` (best-effort: what a dying connection swallowed is gone), or the exactly-once echo at
// `/reliable` (tether.v1: both sides resend what the other did not acknowledge, so every message and
// every echo arrives exactly once across reconnects, and a session that cannot resume is reported).
//
// "Kept across reloads" gives the client `persist(browserStore(...))` from tether-ws/persist, an ES
// module imported only then (it is not in the UMD build): the outbox, and the exactly-once session,
// live in IndexedDB, and the next page sends what this one could not. The choice (and the mode) is
// remembered in localStorage, and changing either reloads the page: one persisted client per page.

const $ = (id) => document.getElementById(id);
const stateBadge = $('state');
const detail = $('detail');
const queuedCount = $('queued');
const input = $('message');
const deliveryChoice = $('delivery');
const connectButton = $('connect');
const disconnectButton = $('disconnect');
const persistBox = $('persist');
const { demoLog } = globalThis;

if (!globalThis.TetherWS) {
  // The page works only with the client's build next to it; say how to get it instead of a blank page.
  detail.textContent = 'Could not load /dist/tether-ws.umd.js: run `npm run build`, then reload.';
  throw new Error(detail.textContent);
}

/** Both endpoints are on the page's own origin: the dev server serves this page and both echoes. */
const wsOrigin = location.origin.replace(/^http/, 'ws');
const MODES = {
  'best-effort': { url: `${wsOrigin}/` },
  'exactly-once': { url: `${wsOrigin}/reliable` },
};

/** Badge texts that differ from the state name; the others show as named. */
const LABELS = { idle: 'not connected' };
/** States in which the button would do nothing (docs/api.md, Methods): it is disabled then. */
const CONNECT_IDLE_IN = ['connecting', 'open', 'reconnecting'];
const DISCONNECT_IDLE_IN = ['idle', 'closing', 'closed'];
/** How a session that was not resumed ended, for the log (see the `session-lost` event). */
const SESSION_ENDS = {
  'not-resumed': 'not resumed: the server no longer knew it (it restarted, or another node answered)',
  expired: 'expired: disconnected for longer than its resume window',
  closed: 'closed',
};

// The retry countdown: `reconnecting` gives the delay; the badge counts down to the next attempt.
let countdown;
function showState(state, suffix = '') {
  clearInterval(countdown);
  stateBadge.dataset.state = state;
  stateBadge.replaceChildren(LABELS[state] ?? state);
  if (suffix) stateBadge.append(' ', suffix);
}

function showButtons(state) {
  const focused = document.activeElement;
  connectButton.disabled = CONNECT_IDLE_IN.includes(state);
  disconnectButton.disabled = DISCONNECT_IDLE_IN.includes(state);
  // A disabled button loses the keyboard focus to the page: hand it to the control that is useful now.
  if (focused === connectButton || focused === disconnectButton) {
    if (focused.disabled) (connectButton.disabled ? disconnectButton : connectButton).focus();
  }
}

/** While "kept across reloads" is on: the Delivery mode, in localStorage. */
const PERSIST_KEY = 'tether-ws-demo:persist';
const keptMode = localStorage.getItem(PERSIST_KEY);
if (keptMode && MODES[keptMode]) {
  persistBox.checked = true;
  deliveryChoice.querySelector(`input[value="${keptMode}"]`).checked = true;
}
let mode = deliveryChoice.querySelector('input:checked')?.value ?? 'best-effort';
/** The page's connection; undefined for the moment it takes to read IndexedDB. */
let current;
if (persistBox.checked) {
  startPersisted();
} else {
  current = createConnection(mode);
  showButtons(current.client.state);
}

/** A client whose outbox is kept in IndexedDB; what the last page left is sent at once. */
async function startPersisted() {
  const { browserStore, persist } = await import('/dist/persist.js');
  const store = browserStore(`demo-${mode}`);
  const delivery = await persist(store, mode === 'exactly-once' ? TetherWS.exactlyOnce() : undefined);
  current = createConnection(mode, delivery);
  showButtons(current.client.state);
  demoLog.note(`Outbox kept across reloads, in IndexedDB as “${store.owned}”`, 'info');
  // What the store held goes back into the client's queue right after its constructor.
  queueMicrotask(() => {
    const left = current.client.queued;
    showQueued();
    if (left === 0) return;
    demoLog.note(`${left} message(s) left by the last page: sending them`, 'info');
    current.client.open().catch(() => {});
  });
}

function showQueued() {
  if (current) queuedCount.textContent = String(current.client.queued);
}
// Exactly-once keeps each message in the queue until the server acknowledges it, which happens
// with no event of its own (as does a drain after backpressure): refresh the count now and then.
setInterval(showQueued, 250);

/** Entries of `awaiting` whose text is `text`, oldest first. */
const findEntry = (awaiting, text) => awaiting.findIndex((item) => demoLog.textOf(item) === text);

/**
 * A client for `name` (a key of MODES), its log entries still waiting for an echo, and the page's
 * listeners. Listeners that repaint the page first check that their connection is still the page's:
 * one being closed by a Delivery switch still reports to the log, but leaves the badge alone.
 */
function createConnection(name, persisted) {
  const { url } = MODES[name];
  const exactlyOnce = name === 'exactly-once';
  const client = new TetherWS.WebSocketClient(url, {
    // The dev server answers '__ping__' with '__pong__' (pongs never reach 'message'). Without a
    // heartbeat a browser can show a dead connection (laptop asleep, Wi-Fi switched) as open for
    // minutes; with it, one is noticed within interval + timeout = 15 s.
    heartbeat: { interval: 10_000, timeout: 5_000 },
    // Short delays so that a server restart shows up within seconds; the defaults are 1 s to 30 s.
    reconnect: { minDelay: 500, maxDelay: 5_000 },
    // `/reliable` speaks tether.v1. The UMD build carries the opt-in exactly-once entry too
    // (`TetherWS.exactlyOnce`); a session survives disconnects shorter than its resumeWindow (60 s).
    ...(exactlyOnce ? { delivery: TetherWS.exactlyOnce() } : {}),
    ...(persisted ? { delivery: persisted } : {}),
  });
  /** `awaiting`: sent entries without their echo yet, oldest first; `session`: one is under way. */
  const conn = { name, url, client, awaiting: [], session: false, lastClose: undefined };
  const isCurrent = () => conn === current;
  // Handy in the browser console: try `client.send('hi')` or `client.state`.
  globalThis.client = client;

  client.on('state', ({ to }) => {
    if (!isCurrent()) return;
    showState(to);
    showButtons(to);
    showQueued();
    if (to !== 'open') return;
    // The queue is flushed into the socket before 'open': what left it has been written. Exactly-once
    // keeps written messages queued until acknowledged, so there every queued entry was written.
    let written = exactlyOnce
      ? Number.POSITIVE_INFINITY
      : conn.awaiting.filter((item) => item.dataset.status === 'queued').length - client.queued;
    for (const item of conn.awaiting) {
      if (written <= 0) break;
      if (item.dataset.status === 'queued') {
        demoLog.setStatus(item, 'sent');
        written -= 1;
      }
    }
  });

  client.on('open', ({ protocol }) => {
    const session = exactlyOnce ? (conn.session ? ', session resumed' : ', new session') : '';
    conn.session = exactlyOnce;
    demoLog.event('open', `Open: ${url}${protocol ? ` (${protocol})` : ''}${session}`);
    if (isCurrent()) detail.textContent = `Connected to ${url}${protocol ? ` (${protocol})` : ''}`;
  });

  client.on('close', ({ code, reason, willReconnect }) => {
    const why = reason ? ` “${reason}”` : '';
    const next = willReconnect ? '' : ' · not reconnecting';
    conn.lastClose = demoLog.event('close', `Closed: code ${code}${why}${next}`);
    if (isCurrent()) detail.textContent = `Connection closed: code ${code}${why}`;
    if (willReconnect) return;
    // Nothing more arrives on this client: an echo still awaited will not come.
    for (const item of conn.awaiting.splice(0)) {
      if (item.dataset.status === 'queued') conn.awaiting.push(item);
      else demoLog.setStatus(item, 'lost');
    }
    // A session the user closed with everything acknowledged emits no `session-lost`: say so here,
    // by the same rule as a session the server lost (after `session-lost`, whichever comes first).
    queueMicrotask(() => {
      if (!conn.session) return;
      conn.session = false;
      demoLog.note(
        `Session ${SESSION_ENDS.closed}: nothing was lost, the server had acknowledged every message`,
        'info',
      );
    });
  });

  client.on('reconnecting', ({ attempt, delay, offline }) => {
    const when = offline ? 'when the browser is back online' : `in ${(delay / 1000).toFixed(1)} s`;
    if (conn.lastClose) conn.lastClose.querySelector('.text').textContent += ` · retry ${attempt} ${when}`;
    if (!isCurrent()) return;
    if (offline) {
      // The client waits for the browser's `online` event instead of spending attempts.
      showState('offline');
      detail.textContent = 'The browser is offline: the client retries as soon as the network is back.';
      return;
    }
    const due = performance.now() + delay;
    const remaining = document.createElement('span');
    remaining.className = 'countdown';
    // Hidden from screen readers: the live badge already said "reconnecting".
    remaining.setAttribute('aria-hidden', 'true');
    showState('reconnecting', remaining);
    const tick = () => {
      remaining.textContent = `in ${(Math.max(0, due - performance.now()) / 1000).toFixed(1)} s`;
    };
    tick();
    countdown = setInterval(tick, 100);
    // 'close' has just written the close code here; the attempt number goes after it.
    detail.textContent += ` · retry ${attempt}`;
  });

  client.on('error', (error) => {
    // Storage failed (quota, private mode): the client goes on in memory, and the log says so.
    if (error.code === 'PERSIST_FAILED') demoLog.note(error.message, 'warn');
    // A connection failure is followed at once by `close`, which replaces this with its code and reason.
    if (isCurrent()) detail.textContent = `${error.code}: ${error.message}`;
  });

  client.on('message', (data) => {
    const text = typeof data === 'string' ? data : `[binary, ${data.size ?? data.byteLength} bytes]`;
    demoLog.received(text);
    const index = findEntry(conn.awaiting, text);
    if (index !== -1) {
      const [skipped, echoed] = [conn.awaiting.splice(0, index), conn.awaiting.shift()];
      // Echoes come back in order, so older entries still waiting were lost with a dead socket.
      for (const item of skipped) demoLog.setStatus(item, 'lost');
      demoLog.setStatus(echoed, 'delivered');
    }
    // The queue can also drain with no event of its own (backpressure): refresh the count as things happen.
    if (isCurrent()) showQueued();
  });

  // The queue over its limits (16 MiB by default), or close() finding messages it had no open
  // connection to write to (`closed`): the client never drops silently.
  client.on('drop', ({ data, reason }) => {
    // A client replaced by switchMode() drops what was carried over to the new one: nothing lost.
    if (reason === 'closed' && !isCurrent()) return;
    demoLog.note(`Dropped from the queue (${reason}): ${data}`, 'warn');
    const index = findEntry(conn.awaiting, data);
    if (index !== -1) demoLog.setStatus(conn.awaiting.splice(index, 1)[0], 'unsent');
  });

  // Exactly-once: a session that ended without being resumed hands back, in order, what the server
  // never acknowledged. An alarm only when that list is not empty: otherwise nothing was lost.
  client.on('session-lost', ({ reason, undelivered }) => {
    conn.session = false;
    const how = SESSION_ENDS[reason] ?? reason;
    if (undelivered.length === 0) {
      demoLog.note(`Session ${how}: nothing was lost, the server had acknowledged every message`, 'info');
      return;
    }
    const list = undelivered.map((text) => `“${text}”`).join(', ');
    demoLog.note(
      `Session ${how}: ${undelivered.length} message(s) the server never acknowledged: ${list}`,
      'warn',
    );
    // They are not resent: their echo may never come.
    for (const text of undelivered) {
      const index = findEntry(conn.awaiting, text);
      if (index !== -1) demoLog.setStatus(conn.awaiting.splice(index, 1)[0], 'lost');
    }
  });

  return conn;
}

/**
 * Replaces the connection with one in `next` mode. Messages still queued (never written) move to
 * the new client, in order; the old client is closed, so it never sends them. Reconnects at once if
 * the old one was in use.
 */
function switchMode(next) {
  if (next === mode) return;
  const old = current;
  const wasInUse = old.client.state !== 'idle' && old.client.state !== 'closed';
  const queued = old.awaiting.filter((item) => item.dataset.status === 'queued');
  // Best-effort's queue holds only unwritten messages; the last `queued` of those entries are they.
  const carried =
    old.name === 'best-effort' ? queued.slice(Math.max(0, queued.length - old.client.queued)) : queued;
  old.awaiting.splice(0, old.awaiting.length, ...old.awaiting.filter((item) => !carried.includes(item)));
  mode = next;
  current = createConnection(next);
  old.client.close();
  for (const item of carried) {
    current.client.send(demoLog.textOf(item));
    current.awaiting.push(item);
  }
  const moved = carried.length ? `; ${carried.length} queued message(s) carried over` : '';
  demoLog.note(`Delivery: ${next}, endpoint ${MODES[next].url}${moved}`, 'info');
  showState(current.client.state);
  showButtons(current.client.state);
  showQueued();
  detail.textContent = wasInUse
    ? `Switching to ${MODES[next].url}`
    : `Press Connect to open a connection to ${MODES[next].url}.`;
  if (wasInUse) current.client.open().catch(() => {});
}

deliveryChoice.addEventListener('change', (event) => {
  if (event.target === persistBox) {
    if (persistBox.checked) localStorage.setItem(PERSIST_KEY, mode);
    else localStorage.removeItem(PERSIST_KEY);
    location.reload();
  } else if (persistBox.checked) {
    localStorage.setItem(PERSIST_KEY, event.target.value);
    location.reload();
  } else {
    switchMode(event.target.value);
  }
});

// Failures are shown by the events above; the promise only says the same again.
connectButton.addEventListener('click', () => current?.client.open().catch(() => {}));
disconnectButton.addEventListener('click', () => current?.client.close());

$('composer').addEventListener('submit', (event) => {
  // A form gives Enter-to-send for free, for the keyboard and for a phone's "send" key.
  event.preventDefault();
  const text = input.value;
  if (text === '' || !current) return;
  const written = current.client.send(text);
  current.awaiting.push(demoLog.sent(text, written ? 'sent' : 'queued'));
  input.value = '';
  showQueued();
});
