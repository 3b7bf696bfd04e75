// The measured page. Loads one library's bundle, opens the control channel back to the bench, and
// runs the measurements it is told to, one at a time. `?page=ID&lib=NAME&adapter=NAME&bundle=NAME`:
// a variant uses another library's adapter (tether-ws exactly-once: tether-ws's) or bundle.
import { ADAPTERS } from './adapters.js';
import { MEASUREMENTS } from './measure.js';

const query = new URLSearchParams(location.search);
const name = query.get('adapter') ?? query.get('lib');
const bundle = query.get('bundle') ?? name;
const control = new WebSocket(`ws://${location.host}/control?page=${query.get('page')}`);
const send = (message) => control.send(JSON.stringify(message));
const inbox = [];
let waiter;

/** The page side of the control channel, handed to measurements that need to hear about faults. */
const channel = {
  note: (name, fields = {}) => send({ type: 'note', name, ...fields }),
  /** The next message from the bench (a note about a fault). */
  next: () =>
    inbox.length > 0 ? Promise.resolve(inbox.shift()) : new Promise((resolve) => (waiter = resolve)),
};

async function start() {
  const adapter = ADAPTERS[name];
  if (!adapter) throw new Error(`no adapter for ${name}`);
  const lib = name === 'raw' ? undefined : await import(`/build/${bundle}.js`);
  return (url, settings, on) => adapter(lib, url, settings, on);
}

const ready = start();
control.onopen = () =>
  ready.then(
    () => send({ type: 'ready' }),
    (error) => send({ type: 'error', error: String(error) }),
  );
control.onmessage = async (event) => {
  const message = JSON.parse(event.data);
  if (message.type !== 'run') {
    if (waiter) {
      const resolve = waiter;
      waiter = undefined;
      resolve(message);
    } else inbox.push(message);
    return;
  }
  try {
    const result = await MEASUREMENTS[message.test](await ready, message.params, channel);
    send({ type: 'result', result });
  } catch (error) {
    send({ type: 'error', error: `${error?.stack ?? error}` });
  }
};
