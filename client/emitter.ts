import { invalid, TetherError } from './errors.js';

/**
 * Emits `type` on `target`. A function rather than a method, so that a class built on Emitter (the
 * client) does not make `emit` one of its public members; it is assigned in the class body below,
 * the only place that can read an emitter's listeners.
 */
export let emit: <Events extends EventMap, K extends keyof Events>(
  // biome-ignore lint/suspicious/noExplicitAny: any second map: emit passes `info` through untyped.
  target: Emitter<Events, any>,
  type: K,
  payload: Events[K],
  info?: unknown,
) => void;

// biome-ignore lint/suspicious/noExplicitAny: listener payloads are typed per event by the map.
type EventMap = { error: TetherError } & Record<PropertyKey, any>;

/**
 * A listener of `type`: the payload, and for the events named in `Info` a second argument
 * (`message`'s {@link MessageInfo} in exactly-once mode), `undefined` for the others.
 */
export type Listener<Events, Info, K extends keyof Events> = (
  payload: Events[K],
  info: K extends keyof Info ? Info[K] : undefined,
) => void;

/**
 * A small typed event emitter. `on()` returns its own unsubscribe function. Emitting iterates over
 * a snapshot, so a listener that unsubscribes (itself or another) during an emit cannot make
 * another listener be skipped. A listener that throws does not stop the others, and does not
 * corrupt the emitter's owner: the error is emitted as `error` (`LISTENER_ERROR`), or rethrown
 * asynchronously if nobody listens to `error` or an `error` listener threw.
 */
// biome-ignore lint/suspicious/noExplicitAny: listener payloads are typed per event by the map.
export class Emitter<Events extends { error: TetherError } & Record<keyof Events, any>, Info = object> {
  #listeners: { [K in keyof Events]?: Array<Listener<Events, Info, K>> } = {};

  /** @throws TetherTypeError if `listener` is not a function (a caller mistake). */
  on<K extends keyof Events>(type: K, listener: Listener<Events, Info, K>): () => void {
    if (typeof listener !== 'function') throw invalid('argument', 'listener', listener, 'a function');
    // Replacing the array (rather than mutating it) keeps in-flight emits on their snapshot.
    this.#listeners[type] = [...(this.#listeners[type] ?? []), listener];
    return () => this.off(type, listener);
  }

  /** Like `on()`, for one event; the wrapper remembers `listener` so that `off(type, listener)` finds it. */
  once<K extends keyof Events>(type: K, listener: Listener<Events, Info, K>): () => void {
    if (typeof listener !== 'function') throw invalid('argument', 'listener', listener, 'a function');
    const wrapper = Object.assign(
      (payload: Events[K], info: K extends keyof Info ? Info[K] : undefined) => {
        off();
        listener(payload, info);
      },
      { original: listener },
    );
    const off = this.on(type, wrapper);
    return off;
  }

  /** Removes `listener`, or the `once()` wrapper around it (which carries it as `original`). */
  off<K extends keyof Events>(type: K, listener: Listener<Events, Info, K>): void {
    const list = this.#listeners[type];
    const index = list
      ? list.findIndex((l) => l === listener || (l as { original?: unknown }).original === listener)
      : -1;
    if (list && index >= 0) this.#listeners[type] = list.filter((_, i) => i !== index);
  }

  static {
    emit = (target, type, payload, info) => {
      for (const listener of target.#listeners[type] ?? []) {
        try {
          listener(payload, info as never);
        } catch (cause) {
          if (type !== 'error' && target.#listeners.error?.length) {
            // Event names are strings: the map's keys.
            const message = `A "${type as string}" listener threw: ${cause}`;
            emit(target, 'error', new TetherError('LISTENER_ERROR', message, { cause }));
          } else {
            queueMicrotask(() => {
              throw cause;
            });
          }
        }
      }
    };
  }
}
