// The metrics are the product's (visor eval labels): lab evaluations use the same code.
export * from '../../src/quality/metrics.js';
