/** Moved to the product (src/core/random.ts); re-exported for the lab. */
export * from '../src/core/random.js';
