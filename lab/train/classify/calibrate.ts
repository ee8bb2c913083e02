/** Moved to the product (src/classify/calibrate.ts), which cross-validates in `visor eval labels`; re-exported for the lab. */
export * from '../../../src/classify/calibrate.js';
