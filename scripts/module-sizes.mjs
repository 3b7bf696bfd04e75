// Where the bytes of the shipped ES bundles are: each minified character of dist/tether-ws.js and
// dist/exactly-once.js is attributed, through the source map, to the module it came from (client/,
// or protocol/ for the tether.v1 codec both sides share);
// each module's share is then gzipped on its own. The shares add up to more than the bundle's
// gzip size (gzip finds repeats across modules too), so read them as proportions. Sizes as the
// bench and check-package.mjs measure them (bench/bundle.mjs sizesOf). Run after `npm run build`.
import { readFileSync } from 'node:fs';
import { SourceMapConsumer } from 'source-map-js';
import { sizesOf } from '../bench/bundle.mjs';

for (const file of ['dist/tether-ws.js', 'dist/exactly-once.js']) {
  const code = readFileSync(file, 'utf8');
  const map = new SourceMapConsumer(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
  const mappings = [];
  map.eachMapping((m) => mappings.push(m));
  mappings.sort((a, b) => a.generatedLine - b.generatedLine || a.generatedColumn - b.generatedColumn);
  const shares = new Map();
  let next = 0;
  let owner = '(no source)';
  let line = 1;
  let column = 0;
  for (const char of code) {
    while (
      next < mappings.length &&
      (mappings[next].generatedLine < line ||
        (mappings[next].generatedLine === line && mappings[next].generatedColumn <= column))
    ) {
      owner = mappings[next].source?.replace(/^(\.\.\/)*(client\/)?/, '') ?? owner;
      next++;
    }
    shares.set(owner, (shares.get(owner) ?? '') + char);
    if (char === '\n') {
      line++;
      column = 0;
    } else column++;
  }
  const whole = sizesOf(code);
  console.log(`${file}: ${whole.min} B minified, ${whole.gzip} B gzip`);
  const rows = [...shares].map(([module, text]) => {
    const { min, gzip } = sizesOf(text);
    return [module, min, gzip];
  });
  for (const [module, min, gz] of rows.sort((a, b) => b[2] - a[2])) {
    console.log(
      `  ${module.padEnd(24)} ${String(min).padStart(6)} B min ${String(gz).padStart(6)} B gzip alone`,
    );
  }
}
