/** Moved to the product (src/classify/folds.ts), which cross-validates in `visor eval labels`; re-exported for the lab. */
export * from '../../../src/classify/folds.js';
