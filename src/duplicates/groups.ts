import type { StoredItem } from '../store/types.js';
import type { DuplicateFinding } from './find-duplicates.js';

/** One image of a group of copies, as people compare them. */
export interface DuplicateItem {
  id: string;
  path: string;
  /** Other paths holding the very same bytes (stored once). */
  paths: string[];
  width: number;
  height: number;
  /** File size of its first path. */
  bytes: number;
  /** Modification time of its first path when indexed (ms since 1970). */
  modified: number;
}

export interface DuplicateGroup {
  /** How sure the weakest verified pair that joined the group is (0–1). */
  confidence: number;
  items: DuplicateItem[];
}

export interface DuplicateReport {
  groups: DuplicateGroup[];
  /** Items compared, candidate pairs found by the vector index, pairs given the precise check. */
  items: number;
  candidates: number;
  checked: number;
  /** Images that could not be read or decoded, left out, with the reason. */
  skipped: Array<{ id: string; path: string; reason: string }>;
  seconds: number;
}

export function describeItem(s: StoredItem): DuplicateItem {
  return { id: s.id, path: s.path, paths: s.paths, width: s.width, height: s.height, bytes: s.fileSizes[0] ?? 0, modified: s.fileMtimes[0] ?? 0 };
}

/** The finding with each item's file details, largest image first in each group. */
export async function describeGroups(
  finding: DuplicateFinding,
  items: (ids: readonly string[]) => Promise<StoredItem[]>,
  seconds: number,
): Promise<DuplicateReport> {
  const wanted = [...finding.groups.flatMap((g) => g.ids), ...finding.skipped.map((s) => s.id)];
  const byId = new Map((await items(wanted)).map((s) => [s.id, describeItem(s)]));
  const groups = finding.groups.map((g) => ({
    confidence: g.confidence,
    items: g.ids
      .map((id) => byId.get(id))
      .filter((x): x is DuplicateItem => x !== undefined)
      .sort(largestFirst),
  }));
  return {
    groups: groups.filter((g) => g.items.length > 1),
    items: finding.items,
    candidates: finding.candidates,
    checked: finding.checked,
    skipped: finding.skipped.map((s) => ({ id: s.id, path: byId.get(s.id)?.path ?? s.id, reason: s.reason })),
    seconds,
  };
}

/** Most pixels first, then the larger file, then the older, then by path (so the order never depends on the index's). */
export function largestFirst(a: DuplicateItem, b: DuplicateItem): number {
  return b.width * b.height - a.width * a.height || b.bytes - a.bytes || a.modified - b.modified || a.path.localeCompare(b.path);
}

export function oldestFirst(a: DuplicateItem, b: DuplicateItem): number {
  return a.modified - b.modified || largestFirst(a, b);
}

export type KeepRule = 'largest' | 'oldest';

/** One group's clean-up: the image kept, and the copies to remove. */
export interface RemovalStep {
  confidence: number;
  keep: DuplicateItem;
  remove: DuplicateItem[];
}

/** What removing the copies would do: in each group, keep the largest (or oldest) image and remove the others. */
export function removalPlan(groups: readonly DuplicateGroup[], keep: KeepRule): RemovalStep[] {
  return groups.map((g) => {
    const [kept, ...rest] = [...g.items].sort(keep === 'largest' ? largestFirst : oldestFirst);
    return { confidence: g.confidence, keep: kept!, remove: rest };
  });
}
