import { resolvePaths } from '../../config.js';
import { checkStore } from '../../store/s3/check-store.js';
import { printJson } from '../output.js';
import { EXIT, type GlobalOptions } from '../run.js';

/** `visor doctor`: whether --db can hold a collection, one line per check; exit 2 when one fails. */
export async function doctorCommand(o: GlobalOptions): Promise<number> {
  const paths = resolvePaths();
  const r = await checkStore(o.db ?? paths.defaultDb, paths.s3);
  if (o.json) printJson(r);
  else {
    const width = Math.max(...r.checks.map((c) => c.name.length));
    const lines = r.checks.map(
      (c) => `${c.ok ? 'ok    ' : 'FAILED'}  ${c.name.padEnd(width)}  ${c.detail}${c.fix ? `\n${' '.repeat(width + 10)}fix: ${c.fix}` : ''}`,
    );
    process.stdout.write(
      `${r.db}\n${lines.join('\n')}\n${r.ok ? 'all checks passed' : 'this store cannot hold the collection: fix the failed check and run visor doctor again'}\n`,
    );
  }
  return r.ok ? EXIT.ok : EXIT.usage;
}
