// One file so that every entry with an options table (the core, exactly-once) can bundle it alone.
/**
 * The name in `known` closest to `name`, for the unknown-option error: the one in which most of
 * `name`'s letters occur, less the square of the difference in length (so a long name does not
 * win by having every letter). Cheap, and it survives a dropped, doubled or swapped letter (`reconect`,
 * `minDelai`, `maxMesages`, `websocket`); ties go to the first in the table.
 */
export function closestName(name: string, known: object): string {
  const score = (candidate: string) =>
    [...name].filter((letter) => candidate.includes(letter)).length - (candidate.length - name.length) ** 2;
  return Object.keys(known).sort((a, b) => score(b) - score(a))[0] as string;
}
