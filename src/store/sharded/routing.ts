import { VisorError } from '../../errors.js';

/** Shard folders under the collection's prefix: shards/000, shards/001, … */
export function shardName(i: number): string {
  return `shards/${String(i).padStart(3, '0')}`;
}

/**
 * The shard of an item: its content id (sha256 hex) read as a number, by its first 8 hex
 * digits, modulo the shard count. Content ids are uniform, so shards fill evenly, and every
 * node places the same content on the same shard without asking anyone.
 */
export function shardOf(id: string, shards: number): number {
  const head = Number.parseInt(id.slice(0, 8), 16);
  if (!/^[0-9a-f]{8}/i.test(id) || !Number.isFinite(head)) throw new VisorError('QUERY_INVALID', `${JSON.stringify(id)} is not an item id (a hex content hash)`);
  return head % shards;
}

/** Positions of `ids` grouped by shard: groups[s] lists the indexes into ids that shard s holds. */
export function groupByShard(ids: readonly string[], shards: number): number[][] {
  const groups = Array.from({ length: shards }, () => [] as number[]);
  ids.forEach((id, i) => groups[shardOf(id, shards)]!.push(i));
  return groups;
}
