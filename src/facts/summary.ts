import { countObjects, type ColourShare, type Detection, type ImageFacts, type TextLine } from '../core/facts.js';

/**
 * An image's facts as people read them: objects counted per class, the main colours, the text
 * read. What `visor tags`, `visor text`, the HTTP API and the page show, in one place.
 */
export interface FactsSummary {
  /** Classes found, most frequent first (ties: best detection first); absent when the objects stage did not run. */
  objects?: Array<{ label: string; count: number }>;
  /** Main colours of the whole image, largest share first; absent when the colours stage did not run. */
  colours?: ColourShare[];
  /** Text read, in reading order (top to bottom, then left to right); absent when the text stage did not run. */
  text?: TextLine[];
}

/** Classes with their counts, most frequent first; equal counts keep the order of their best detection. */
export function objectCounts(objects: readonly Detection[]): Array<{ label: string; count: number }> {
  const counts = countObjects(objects);
  const best = new Map<string, number>();
  for (const o of objects) best.set(o.label, Math.max(best.get(o.label) ?? 0, o.score));
  return Object.entries(counts)
    .map(([label, count]) => ({ label, count }))
    .sort((a, b) => b.count - a.count || best.get(b.label)! - best.get(a.label)!);
}

/** Text boxes in reading order: rows top to bottom (boxes overlapping vertically share a row), each left to right. */
export function readingOrder(lines: readonly TextLine[]): TextLine[] {
  const byTop = [...lines].sort((a, b) => a.box[1] - b.box[1]);
  const rows: TextLine[][] = [];
  for (const l of byTop) {
    const row = rows.at(-1);
    const mid = (l.box[1] + l.box[3]) / 2;
    if (row && mid < Math.max(...row.map((r) => r.box[3]))) row.push(l);
    else rows.push([l]);
  }
  return rows.flatMap((r) => r.sort((a, b) => a.box[0] - b.box[0]));
}

export function summarizeFacts(facts: ImageFacts): FactsSummary {
  return {
    ...(facts.objects ? { objects: objectCounts(facts.objects) } : {}),
    ...(facts.colours ? { colours: facts.colours } : {}),
    ...(facts.text ? { text: readingOrder(facts.text) } : {}),
  };
}

/** "person ×3, dog ×1" */
export function describeObjects(objects: readonly Detection[]): string {
  return objectCounts(objects)
    .map((c) => `${c.label} ×${c.count}`)
    .join(', ');
}

/** "green 45%, blue 20%" */
export function describeColours(colours: readonly ColourShare[]): string {
  return colours.map((c) => `${c.name} ${Math.round(c.share * 100)}%`).join(', ');
}

/**
 * The facts as lines of text, one per stage that ran ("objects: person ×3, dog ×1"), with each
 * object class's main colours; a stage that ran and found nothing says so.
 */
export function describeFacts(facts: ImageFacts): string[] {
  const lines: string[] = [];
  if (facts.objects) {
    lines.push(`objects: ${describeObjects(facts.objects) || '(none found)'}`);
    for (const { label } of objectCounts(facts.objects)) {
      const names = new Set(facts.objects.filter((o) => o.label === label).flatMap((o) => (o.colours?.[0] ? [o.colours[0].name] : [])));
      if (names.size) lines.push(`  ${label}: ${[...names].join(', ')}`);
    }
  }
  if (facts.colours) lines.push(`colours: ${describeColours(facts.colours) || '(none)'}`);
  if (facts.text) {
    const read = readingOrder(facts.text).map((t) => JSON.stringify(t.text));
    lines.push(`text: ${read.join(' ') || '(none found)'}`);
  }
  return lines;
}
