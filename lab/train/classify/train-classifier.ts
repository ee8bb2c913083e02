/** Moved to the product (src/classify/train-classifier.ts), which cross-validates in `visor eval labels`; re-exported for the lab. */
export * from '../../../src/classify/train-classifier.js';
