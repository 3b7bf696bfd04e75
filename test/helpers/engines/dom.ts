/**
 * Reading a page's DOM the same way in every engine (playwright's locators are Chromium's driver
 * only): each helper is one evaluation in the page. `hasText` keeps the elements whose text
 * (whitespace collapsed) contains it, as a playwright locator's `hasText` does.
 */
import type { EnginePage, WaitOptions } from './engine';

export interface Match {
  /** Only elements whose collapsed text contains this. */
  hasText?: string;
  /** A selector inside each matching element: its first match is read instead. */
  inner?: string;
}

type Query = { selector: string; hasText?: string | undefined; inner?: string | undefined };

/** Runs in the page: the elements `query` names (the `inner` element of each, where given). */
const select = `(query) => {
  const collapse = (text) => (text ?? '').replace(/\\s+/g, ' ').trim();
  return [...document.querySelectorAll(query.selector)]
    .filter((element) => query.hasText === undefined || collapse(element.textContent).includes(query.hasText))
    .map((element) => (query.inner === undefined ? element : element.querySelector(query.inner)))
    .filter((element) => element !== null);
}`;

/** `fn(elements)` in the page, on the elements of `query`. */
function onElements<R>(page: EnginePage, query: Query, fn: string): Promise<R> {
  return page.evaluate(
    ({ query, select, fn }) => {
      // Both are source text from this module (functions cannot be sent as arguments).
      const pick = new Function(`return ${select}`)() as (q: unknown) => Element[];
      const body = new Function(`return ${fn}`)() as (elements: Element[]) => unknown;
      return body(pick(query));
    },
    { query, select, fn },
  ) as Promise<R>;
}

/** The text of each element `selector` matches (of its `inner` element, where given). */
export function texts(page: EnginePage, selector: string, match: Match = {}): Promise<string[]> {
  return onElements(page, { selector, ...match }, '(elements) => elements.map((e) => e.textContent ?? "")');
}

/** The text of the first match, or null when nothing matches. */
export async function text(page: EnginePage, selector: string, match: Match = {}): Promise<string | null> {
  return (await texts(page, selector, match))[0] ?? null;
}

/** An attribute of the first match (null when absent or nothing matches). */
export function attribute(page: EnginePage, selector: string, name: string, match: Match = {}) {
  return onElements<string | null>(
    page,
    { selector, ...match },
    `(elements) => elements[0]?.getAttribute(${JSON.stringify(name)}) ?? null`,
  );
}

/** An attribute of every match, in document order. */
export function attributes(page: EnginePage, selector: string, name: string, match: Match = {}) {
  return onElements<Array<string | null>>(
    page,
    { selector, ...match },
    `(elements) => elements.map((element) => element.getAttribute(${JSON.stringify(name)}))`,
  );
}

/** How many elements match. */
export function count(page: EnginePage, selector: string, match: Match = {}): Promise<number> {
  return onElements(page, { selector, ...match }, '(elements) => elements.length');
}

/** Whether the first match is a checked checkbox or radio button. */
export function isChecked(page: EnginePage, selector: string): Promise<boolean> {
  return onElements(page, { selector }, '(elements) => elements[0]?.checked === true');
}

/** The value of the first match (an input). */
export function inputValue(page: EnginePage, selector: string): Promise<string | null> {
  return onElements(page, { selector }, '(elements) => elements[0]?.value ?? null');
}

/**
 * The name a screen reader announces for a form control or button, as far as this page needs
 * it: aria-label, else the text of its labels, else its own text (collapsed).
 */
export function accessibleName(page: EnginePage, selector: string): Promise<string | null> {
  return onElements(
    page,
    { selector },
    `(elements) => {
      const element = elements[0];
      if (!element) return null;
      const collapse = (text) => (text ?? '').replace(/\\s+/g, ' ').trim();
      const label = element.getAttribute('aria-label');
      if (label) return label;
      const labelledBy = element.getAttribute('aria-labelledby');
      if (labelledBy) return collapse(document.getElementById(labelledBy)?.textContent);
      if (element.labels && element.labels.length > 0) return collapse([...element.labels].map((l) => l.textContent).join(' '));
      if (element.tagName === 'FIELDSET') return collapse(element.querySelector('legend')?.textContent);
      return collapse(element.textContent);
    }`,
  );
}

/** The first match's box in CSS pixels relative to the viewport, or null. */
export function box(page: EnginePage, selector: string) {
  return onElements<{ x: number; y: number; width: number; height: number } | null>(
    page,
    { selector },
    `(elements) => {
      const r = elements[0]?.getBoundingClientRect();
      return r ? { x: r.x, y: r.y, width: r.width, height: r.height } : null;
    }`,
  );
}

/** Whether the first match lies wholly inside the viewport. */
export async function inView(page: EnginePage, selector: string): Promise<boolean> {
  const rect = await box(page, selector);
  const viewport = await page.evaluate(() => ({ width: innerWidth, height: innerHeight }));
  if (!rect) return false;
  return (
    rect.y >= 0 &&
    rect.x >= 0 &&
    rect.y + rect.height <= viewport.height &&
    rect.x + rect.width <= viewport.width
  );
}

/** Waits until `selector` (with `hasText`) matches something. */
export async function waitForSelector(
  page: EnginePage,
  selector: string,
  options: Match & WaitOptions = {},
): Promise<void> {
  const { hasText, inner, timeout, message } = options;
  const start = performance.now();
  const deadline = start + (timeout ?? 5000);
  for (;;) {
    const found = await count(page, selector, { hasText, inner }).catch(() => 0);
    if (found > 0) return;
    if (performance.now() > deadline) {
      const what = message ?? `${selector}${hasText === undefined ? '' : ` with text "${hasText}"`}`;
      throw new Error(`Waited ${timeout ?? 5000} ms for ${what} in ${page.engine}`);
    }
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
  }
}
