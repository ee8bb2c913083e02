/** Rows of floats kept with room to spare past this many floats (a quarter more). */
const ROOM = 1.25;

/**
 * Rows of floats that grow at the end, each version of them a view of the rows it holds. A
 * version's floats are never written again, so a reader may keep using one while later rows are
 * written after it: in place while the buffer has room, into a larger copy when it has not, so
 * that rows appended a few at a time do not copy every row before them each time.
 */
export class GrowingFloats {
  private buffer = new Float32Array(0);
  private used = 0;

  /**
   * A view of `length` floats starting with `last`'s (a view this returned, or any array; null:
   * none), the rest for the caller to write. A first version is allocated to its size, exactly.
   */
  grow(last: Float32Array | null, length: number): Float32Array {
    const keep = last?.length ?? 0;
    const inPlace = keep > 0 && last!.buffer === this.buffer.buffer && last!.byteOffset === 0 && keep === this.used && length <= this.buffer.length;
    if (!inPlace) {
      const next = new Float32Array(keep === 0 ? length : Math.max(length, Math.ceil(length * ROOM)));
      if (last) next.set(last);
      this.buffer = next;
    }
    this.used = length;
    return this.buffer.subarray(0, length);
  }

  /** Lets go of the buffer. */
  clear(): void {
    this.buffer = new Float32Array(0);
    this.used = 0;
  }
}
