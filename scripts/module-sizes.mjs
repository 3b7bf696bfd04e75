import { readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { rolldown } from 'rolldown';

for (const f of readdirSync('client').filter((f) => f.endsWith('.ts'))) {
  const b = await rolldown({
    input: `client/${f}`,
    external: (id) => id.startsWith('./'),
    logLevel: 'silent',
  });
  const { output } = await b.generate({ format: 'es', minify: true });
  const code = output[0].code;
  console.log(
    f.padEnd(22),
    String(code.length).padStart(6),
    String(gzipSync(code, { level: 9 }).length).padStart(6),
  );
}
