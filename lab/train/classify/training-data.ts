/** Moved to the product (src/classify/training-data.ts), which cross-validates in `visor eval labels`; re-exported for the lab. */
export * from '../../../src/classify/training-data.js';
