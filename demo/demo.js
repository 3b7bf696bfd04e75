// The tutorial's echo page, rebuilt on tether-ws. A plain script on top of the UMD build (the global
// `TetherWS`), as a user of the library would write it: no framework, no build step.
//
// What it shows: the client's state (with the retry countdown), the outbound queue, and a log in
// which each sent message turns "delivered" when its echo comes back. The echo server answers in
// order on one connection, so echoes are matched to sent messages first in, first out.

const $ = (id) => document.getElementById(id);
const stateBadge = $('state');
const detail = $('detail');
const queuedCount = $('queued');
const log = $('log');
const input = $('message');

/** Older entries are removed past this, so a page left running for days stays light. */
const MAX_ENTRIES = 500;

if (!globalThis.TetherWS) {
  // The page works only with the client's build next to it; say how to get it instead of a blank page.
  detail.textContent = 'Could not load /dist/tether-ws.umd.js: run `npm run build`, then reload.';
  throw new Error(detail.textContent);
}

// Same origin as the page: the dev server serves this page and the echo endpoint on one port.
const url = `${location.origin.replace(/^http/, 'ws')}/`;
const client = new TetherWS.WebSocketClient(url, {
  // The dev server answers '__ping__' with '__pong__' (pongs never reach 'message'). Without a
  // heartbeat a browser can show a dead connection (laptop asleep, Wi-Fi switched) as open for
  // minutes; with it, one is noticed within interval + timeout = 15 s.
  heartbeat: { interval: 10_000, timeout: 5_000 },
  // Short delays so that a server restart shows up within seconds; the defaults are 1 s to 30 s.
  reconnect: { minDelay: 500, maxDelay: 5_000 },
});
// Handy in the browser console: try `client.send('hi')` or `client.state`.
globalThis.client = client;

/** Sent entries still waiting for their echo, oldest first. */
const awaitingEcho = [];

const LABELS = {
  idle: 'not connected',
  connecting: 'connecting',
  open: 'open',
  closing: 'closing',
  reconnecting: 'reconnecting',
  closed: 'closed',
};
const STATUS_LABELS = { queued: 'queued', sent: 'sent', delivered: 'delivered', lost: 'no echo' };

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
  item.querySelector('.status').textContent = prefix + STATUS_LABELS[status];
}

function showQueued() {
  queuedCount.textContent = String(client.queued);
}

// The retry countdown: `reconnecting` gives the delay; the badge counts down to the next attempt.
let countdown;
function showState(state, suffix = '') {
  clearInterval(countdown);
  stateBadge.dataset.state = state;
  stateBadge.replaceChildren(LABELS[state] ?? state);
  if (suffix) stateBadge.append(' ', suffix);
}

client.on('state', ({ to }) => {
  showState(to);
  showQueued();
  if (to === 'open') {
    // The queue is flushed into the socket before 'open': what left it has been written.
    let written = awaitingEcho.filter((item) => item.dataset.status === 'queued').length - client.queued;
    for (const item of awaitingEcho) {
      if (written <= 0) break;
      if (item.dataset.status === 'queued') {
        setStatus(item, 'sent');
        written -= 1;
      }
    }
  }
});

client.on('reconnecting', ({ attempt, delay, offline }) => {
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

client.on('open', () => {
  detail.textContent = `Connected to ${client.url}`;
});

client.on('close', ({ code, reason }) => {
  const why = reason ? ` “${reason}”` : '';
  detail.textContent = `Connection closed: code ${code}${why}`;
});

client.on('error', (error) => {
  // A connection failure is followed at once by `close`, which replaces this with its code and reason.
  detail.textContent = `${error.code}: ${error.message}`;
});

client.on('message', (data) => {
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
client.on('drop', ({ data, reason }) => addEntry('note', `Dropped from the queue (${reason}): ${data}`));

$('connect').addEventListener('click', () => client.open());
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
