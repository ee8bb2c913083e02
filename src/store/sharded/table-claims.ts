import type { CreatedElsewhere } from '../lance/tables.js';
import { TABLE_WAIT_MS } from '../lance/tables.js';
import { objectKey, type S3Location } from '../location.js';
import type { ObjectStore } from '../objects.js';
import { shardName } from './routing.js';

/**
 * Who creates the tables every node of a collection uses. LanceDB's creation of a table is not
 * exclusive (see lance/tables.ts), so exactly one node creates each and the others wait for it:
 * the shards' items tables are created by the node whose manifest write won (manifest-object.ts);
 * a side table, in every shard, by the node whose claim `<prefix>/tables/<name>.json` won, a
 * conditional write like the manifest's.
 */
export class TableClaims {
  constructor(
    private readonly objects: ObjectStore,
    private readonly loc: S3Location,
  ) {}

  private key(name: string): string {
    return objectKey(this.loc, `tables/${name}.json`);
  }

  /** Claims the creation of side table `name`: true when this node creates it, false when another node claimed it first. */
  claim(name: string): Promise<boolean> {
    return this.objects.putIfAbsent(this.key(name), `${JSON.stringify({ table: name, claimedAt: new Date().toISOString() })}\n`);
  }

  /** Gives the claim up (the creation failed): the next node to ask creates the table, keeping what exists. */
  release(name: string): Promise<void> {
    return this.objects.delete(this.key(name));
  }

  /** How a node that lost the claim waits for side table `name` in a shard. */
  waitFor(name: string, shard: number): CreatedElsewhere {
    return {
      timeoutMs: TABLE_WAIT_MS,
      where: `${shardName(shard)} of ${this.loc.uri}`,
      hint: `it is created by the node that claimed s3://${this.loc.bucket}/${this.key(name)}; if that node stopped before it finished, remove that object and try again`,
    };
  }
}

/** How a node that did not create the collection waits for a shard's items table. */
export function itemsCreatedElsewhere(loc: S3Location, shard: number): CreatedElsewhere {
  return {
    timeoutMs: TABLE_WAIT_MS,
    where: `${shardName(shard)} of ${loc.uri}`,
    hint: `it is created by the node that created the collection; if that node stopped before it finished, remove everything under ${loc.uri} and create the collection again`,
  };
}
