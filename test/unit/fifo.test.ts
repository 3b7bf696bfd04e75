import { describe, expect, it } from 'vitest';
import { Fifo } from '../../adapter/fifo.js';

describe('Fifo', () => {
  it('hands items back oldest first, and undefined once empty', () => {
    const fifo = new Fifo<number>();
    expect(fifo.shift()).toBeUndefined();
    fifo.push(1);
    fifo.push(2);
    expect([fifo.size, fifo.at(0), fifo.at(1), fifo.at(2), fifo.at(-1)]).toEqual([
      2,
      1,
      2,
      undefined,
      undefined,
    ]);
    expect(fifo.shift()).toBe(1);
    expect(fifo.toArray()).toEqual([2]);
    expect(fifo.shift()).toBe(2);
    expect([fifo.size, fifo.shift()]).toEqual([0, undefined]);
  });

  it('keeps order and positions across compactions, over many pushes and shifts', () => {
    const fifo = new Fifo<number>();
    let next = 0;
    let first = 0;
    for (let round = 0; round < 500; round++) {
      for (let i = 0; i < 7; i++) fifo.push(next++);
      for (let i = 0; i < 5; i++) expect(fifo.shift()).toBe(first++);
      expect(fifo.at(0)).toBe(first);
      expect(fifo.at(fifo.size - 1)).toBe(next - 1);
    }
    expect(fifo.size).toBe(1000);
    expect(fifo.clear()).toEqual(Array.from({ length: 1000 }, (_, i) => first + i));
    expect(fifo.size).toBe(0);
  });
});
