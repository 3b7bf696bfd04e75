// Reads a Chromium CPU profile (the Profiler domain's format, as in a .cpuprofile file): self time
// per function, heaviest first, so a report can say which code is hot.

/** Returns `[{ functionName, url, line, selfMs, share }]`, the `limit` heaviest by self time. */
export function hottestFunctions(profile, limit = 15) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  const deltas = profile.timeDeltas ?? [];
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'}\t${url}\t${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0) / 1000);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  return [...self.entries()]
    .map(([key, selfMs]) => {
      const [functionName, url, line] = key.split('\t');
      return {
        functionName,
        url: url.replace(/^.*\/(build|page)\//, '$1/'),
        line: Number(line),
        selfMs,
        share: selfMs / total,
      };
    })
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, limit);
}
