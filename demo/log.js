// The demo's log: what the user typed, what the server echoed, and what the connection did. A plain
// script (no module, no build step) that defines one global, `demoLog`, for demo.js.
//
// Entries have a `data-direction`: `sent` (You), `received` (Server), `event` (what the connection
// did: open, close with its code and reason, retries, sessions) and `note` (what the page or the
// client reports). Notes carry a `data-tone`: `info` (nothing was lost) or `warn` (something was),
// so a harmless event never looks like an alarm.

globalThis.demoLog = (() => {
  const log = document.getElementById('log');
  /** Older entries are removed past this, so a page left running for days stays light. */
  const MAX_ENTRIES = 500;
  const WHO = { sent: 'You', received: 'Server', event: 'Client', note: 'Client' };
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

  /** Appends an entry and keeps it in view inside the log (which scrolls, not the page). */
  function add(direction, text) {
    const item = document.createElement('li');
    item.dataset.direction = direction;
    item.append(timeNow(), span('who', WHO[direction]), span('text', text));
    log.append(item);
    while (log.children.length > MAX_ENTRIES) log.firstElementChild.remove();
    log.scrollTop = log.scrollHeight;
    return item;
  }

  /** "queued → delivered" keeps the proof visible: this message waited for a reconnect and arrived. */
  function setStatus(item, status) {
    if (status === 'queued') item.dataset.wasQueued = 'true';
    item.dataset.status = status;
    const prefix = item.dataset.wasQueued && status !== 'queued' ? 'queued → ' : '';
    item.querySelector('.status').textContent = prefix + (STATUS_LABELS[status] ?? status);
  }

  return {
    /** A message the user sent, with its status (`queued`, `sent`, `delivered`, `lost`, `unsent`). */
    sent(text, status) {
      const item = add('sent', text);
      item.append(span('status', ''));
      setStatus(item, status);
      return item;
    },
    received: (text) => add('received', text),
    /** What the connection did; `kind` (open, close, session, ...) is kept for styling and tests. */
    event(kind, text) {
      const item = add('event', text);
      item.dataset.kind = kind;
      return item;
    },
    /** A report: `warn` when something was lost or dropped, `info` otherwise. */
    note(text, tone) {
      const item = add('note', text);
      item.dataset.tone = tone;
      return item;
    },
    setStatus,
    textOf: (item) => item.querySelector('.text').textContent,
  };
})();
