import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './fixtures.js';

/** Every module specifier in a file: static and dynamic imports, re-exports, `new URL(…)` (workers). */
function specifiers(source: string): string[] {
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\bnew URL\(\s*)(['"])([^'"]+)\1/g;
  return [...source.matchAll(re)].map((m) => m[2]!);
}

function codeFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|js|mjs)$/.test(f))
    .map((f) => path.join(dir, f));
}

describe('the product and the lab', () => {
  it('nothing under src/ imports lab/ (the lab may import the product, never the reverse)', () => {
    const lab = path.join(ROOT, 'lab') + path.sep;
    const offending: string[] = [];
    const files = codeFiles(path.join(ROOT, 'src'));
    expect(files.length).toBeGreaterThan(100);
    for (const file of files) {
      for (const spec of specifiers(fs.readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        if (path.resolve(path.dirname(file), spec).startsWith(lab)) offending.push(`${path.relative(ROOT, file)}: ${spec}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it('the lab does import the product (the check above looks at real import lines)', () => {
    const src = path.join(ROOT, 'src') + path.sep;
    const main = path.join(ROOT, 'lab', 'cli', 'main.ts');
    const intoSrc = specifiers(fs.readFileSync(main, 'utf8')).filter((s) => path.resolve(path.dirname(main), s).startsWith(src));
    expect(intoSrc).toContain('../../src/cli/run.js');
  });
});
