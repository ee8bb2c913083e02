/** Where LanceStore was before the store was split by job (src/store/lance/): kept so existing imports stay valid. */
export { LanceStore, DEFAULT_ANN, type AnnSettings, type LanceStoreOptions } from './lance/lance-store.js';
