// The tutorial's echo page, rebuilt on tether-ws. A plain script on top of the UMD build (the global
// `TetherWS`), as a user of the library would write it: no framework, no build step.
//
// What it shows: the client's state (with the retry countdown), the outbound queue, and a log in
// which each sent message turns "delivered" when its echo comes back. The echo server answers in
// order on one connection, so echoes are matched to sent messages first in, first out.
//
// The Delivery switch picks the server endpoint and the client's delivery mode: the plain echo at
// `/` (best-effort: what a dying connection swallowed is gone), or the exactly-once echo at
// `/reliable` (tether.v1: both sides resend what the other did not acknowledge, so every message and
// every echo arrives exactly once across reconnects, and a session that cannot resume is reported).

const $ = (id) => document.getElementById(id);
const stateBadge = $('state');
const detail = $('detail');
const queuedCount = $('queued');
const log = $('log');
const input = $('message');
const deliveryChoice = $('delivery');

/** Older entries are removed past this, so a page left running for days stays light. */
const MAX_ENTRIES = 500;

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

/** Sent entries still waiting for their echo, oldest first. */
const awaitingEcho = [];

/** Badge and status texts that differ from the state or status name; the others show as named. */
const LABELS = { idle: 'not connected' };
const STATUS_LABELS = { lost: 'no echo', unsent: 'not sent' };

function timeNow() {
  const now = new Date();
  const time = document.createElement('time');
  time.dateTime = now.toISOString();
  time.textContent = now.toLocaleTimeString([], { hour12: false });
  return time;
}

function span(className, text) {
  const element = document.createElement('span');
  element.className = className;
  element.textContent = text;
  return element;
}

/** Appends a log entry; `status` only for sent messages. */
function addEntry(direction, text, status) {
  const item = document.createElement('li');
  item.dataset.direction = direction;
  const who = { sent: 'You', received: 'Server', note: 'Client' }[direction];
  item.append(timeNow(), span('who', who), span('text', text));
  if (status) {
    item.append(span('status', ''));
    setStatus(item, status);
  }
  log.append(item);
  while (log.children.length > MAX_ENTRIES) log.firstElementChild.remove();
  // Follow the newest entry, as a chat does; `nearest` leaves the page alone when it is visible.
  item.scrollIntoView({ block: 'nearest' });
  return item;
}

/** "queued → delivered" keeps the proof visible: this message waited for a reconnect and arrived. */
function setStatus(item, status) {
  if (status === 'queued') item.dataset.wasQueued = 'true';
  item.dataset.status = status;
  const prefix = item.dataset.wasQueued && status !== 'queued' ? 'queued → ' : '';
  item.querySelector('.status').textContent = prefix + (STATUS_LABELS[status] ?? status);
}

// The retry countdown: `reconnecting` gives the delay; the badge counts down to the next attempt.
let countdown;
function showState(state, suffix = '') {
  clearInterval(countdown);
  stateBadge.dataset.state = state;
  stateBadge.replaceChildren(LABELS[state] ?? state);
  if (suffix) stateBadge.append(' ', suffix);
}

let mode = deliveryChoice.querySelector('input:checked')?.value ?? 'best-effort';
let client = createClient(mode);

function showQueued() {
  queuedCount.textContent = String(client.queued);
}
// Exactly-once keeps each message in the queue until the server acknowledges it, which happens
// with no event of its own (as does a drain after backpressure): refresh the count now and then.
setInterval(showQueued, 250);

/**
 * A client for `name` (a key of MODES) with the page's listeners. Every listener first checks that
 * its client is still the page's: a client being closed by a mode switch must not repaint the badge.
 */
function createClient(name) {
  const { url } = MODES[name];
  const own = new TetherWS.WebSocketClient(url, {
    // The dev server answers '__ping__' with '__pong__' (pongs never reach 'message'). Without a
    // heartbeat a browser can show a dead connection (laptop asleep, Wi-Fi switched) as open for
    // minutes; with it, one is noticed within interval + timeout = 15 s.
    heartbeat: { interval: 10_000, timeout: 5_000 },
    // Short delays so that a server restart shows up within seconds; the defaults are 1 s to 30 s.
    reconnect: { minDelay: 500, maxDelay: 5_000 },
    // `/reliable` speaks tether.v1. The UMD build carries the opt-in exactly-once entry too
    // (`TetherWS.exactlyOnce`); a session survives disconnects shorter than its resumeWindow (60 s).
    ...(name === 'exactly-once' ? { delivery: TetherWS.exactlyOnce() } : {}),
  });
  const on = (event, listener) => own.on(event, (payload) => own === client && listener(payload));
  // Handy in the browser console: try `client.send('hi')` or `client.state`.
  globalThis.client = own;

  on('state', ({ to }) => {
    showState(to);
    showQueued();
    if (to !== 'open') return;
    // The queue is flushed into the socket before 'open': what left it has been written. Exactly-once
    // keeps written messages queued until acknowledged, so there every queued entry was written.
    let written =
      name === 'exactly-once'
        ? Number.POSITIVE_INFINITY
        : awaitingEcho.filter((item) => item.dataset.status === 'queued').length - own.queued;
    for (const item of awaitingEcho) {
      if (written <= 0) break;
      if (item.dataset.status === 'queued') {
        setStatus(item, 'sent');
        written -= 1;
      }
    }
  });

  on('reconnecting', ({ attempt, delay, offline }) => {
    if (offline) {
      // The client waits for the browser's `online` event instead of spending attempts.
      showState('offline');
      detail.textContent = 'The browser is offline: the client retries as soon as the network is back.';
      return;
    }
    const due = performance.now() + delay;
    const remaining = span('countdown', '');
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

  on('open', ({ protocol }) => {
    detail.textContent = `Connected to ${url}${protocol ? ` (${protocol})` : ''}`;
  });

  on('close', ({ code, reason }) => {
    const why = reason ? ` “${reason}”` : '';
    detail.textContent = `Connection closed: code ${code}${why}`;
  });

  on('error', (error) => {
    // A connection failure is followed at once by `close`, which replaces this with its code and reason.
    detail.textContent = `${error.code}: ${error.message}`;
  });

  on('message', (data) => {
    const text = typeof data === 'string' ? data : `[binary, ${data.size ?? data.byteLength} bytes]`;
    addEntry('received', text);
    const index = awaitingEcho.findIndex((item) => item.querySelector('.text').textContent === text);
    if (index !== -1) {
      const [skipped, echoed] = [awaitingEcho.splice(0, index), awaitingEcho.shift()];
      // Echoes come back in order, so older entries still waiting were lost with a dead socket.
      for (const item of skipped) setStatus(item, 'lost');
      setStatus(echoed, 'delivered');
    }
    // The queue can also drain with no event of its own (backpressure): refresh the count as things happen.
    showQueued();
  });

  // Only when the queue is over its limits (16 MiB by default); the client never drops silently.
  on('drop', ({ data, reason }) => addEntry('note', `Dropped from the queue (${reason}): ${data}`));

  // Exactly-once: a session that could not be resumed (server restarted, resumeWindow passed) or
  // that was closed hands back what the server never acknowledged. Reported even by a client the
  // page is switching away from: nothing disappears without a trace.
  own.on('session-lost', ({ reason, undelivered }) => {
    const list = undelivered.map((text) => `“${text}”`).join(', ');
    addEntry(
      'note',
      `Session ended (${reason}): ${undelivered.length} message(s) not acknowledged by the server` +
        (list ? `: ${list}` : ''),
    );
    if (own !== client) return;
    // They are not resent: their echo may never come.
    for (const text of undelivered) {
      const index = awaitingEcho.findIndex((item) => item.querySelector('.text').textContent === text);
      if (index !== -1) setStatus(awaitingEcho.splice(index, 1)[0], 'lost');
    }
  });

  return own;
}

/** Replaces the client with one in `next` mode; reconnects at once if the old one was in use. */
function switchMode(next) {
  if (next === mode) return;
  const old = client;
  const wasInUse = old.state !== 'idle' && old.state !== 'closed';
  mode = next;
  client = createClient(next);
  // The old client stops here: what it still held is not carried over, and the log says so.
  for (const item of awaitingEcho.splice(0)) {
    setStatus(item, item.dataset.status === 'queued' ? 'unsent' : 'lost');
  }
  old.close();
  // An informational note, not a warning like the drop and session-lost ones.
  addEntry('note', `Delivery: ${next}, endpoint ${MODES[next].url}`).dataset.tone = 'info';
  showState(client.state);
  showQueued();
  detail.textContent = wasInUse
    ? `Switching to ${MODES[next].url}`
    : `Press Connect to open a connection to ${MODES[next].url}.`;
  if (wasInUse) client.open().catch(() => {});
}

deliveryChoice.addEventListener('change', (event) => switchMode(event.target.value));

// Failures are shown by the events above; the promise only says the same again.
$('connect').addEventListener('click', () => client.open().catch(() => {}));
$('disconnect').addEventListener('click', () => client.close());

$('composer').addEventListener('submit', (event) => {
  // A form gives Enter-to-send for free, for the keyboard and for a phone's "send" key.
  event.preventDefault();
  const text = input.value;
  if (text === '') return;
  const written = client.send(text);
  awaitingEcho.push(addEntry('sent', text, written ? 'sent' : 'queued'));
  input.value = '';
  showQueued();
});
