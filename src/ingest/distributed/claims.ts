import path from 'node:path';
import { resolvePaths } from '../../config.js';
import { LocalObjects } from '../../store/local-objects.js';
import { objectKey, parseLocation } from '../../store/location.js';
import type { ObjectStore } from '../../store/objects.js';
import { S3Objects } from '../../store/s3/s3-objects.js';

/** Who is embedding a content id: the batch (and which copy of it on the queue) that claimed it first. */
export interface Claim {
  job: string;
  batch: string;
  /** The batch message's stream sequence: a redelivery has the same, a copy of the batch sent again another. */
  seq: number;
  worker: string;
}

/**
 * Content-id claims: before embedding new content a worker claims its id with a
 * create-if-absent write, so content found by several batches at once (duplicate files, a
 * batch delivered twice) is embedded and stored by one of them only. A claim is never
 * taken over: the batch holding it finishes it, on redelivery if its worker died.
 */
export class Claims {
  private constructor(
    private readonly objects: ObjectStore,
    private readonly key: (id: string) => string,
  ) {}

  /** The claims of the collection at `db`: objects under its S3 prefix, or files in its folder. */
  static forDb(db: string): Claims {
    const loc = parseLocation(db, resolvePaths().s3);
    if (loc.kind === 's3') return new Claims(new S3Objects(loc), (id) => objectKey(loc, `claims/${id}`));
    return new Claims(new LocalObjects(path.join(loc.dir, 'claims')), (id) => id);
  }

  /** Claims `id`: null when this call won it, else the holder (null fields when it cannot be read yet). */
  async claim(id: string, mine: Claim): Promise<Claim | 'unreadable' | null> {
    if (await this.objects.putIfAbsent(this.key(id), JSON.stringify(mine))) return null;
    return (await this.holder(id)) ?? 'unreadable';
  }

  /** Who holds `id`, or null when nobody does (or the claim is still being written). */
  async holder(id: string): Promise<Claim | null> {
    const body = await this.objects.get(this.key(id));
    if (!body) return null;
    try {
      return JSON.parse(body.toString('utf8')) as Claim;
    } catch {
      return null;
    }
  }

  /** Gives a claim up (the content could not be embedded: another batch with it tries, and reports, for itself). */
  async release(id: string): Promise<void> {
    await this.objects.delete(this.key(id));
  }

  close(): void {
    this.objects.close();
  }
}
