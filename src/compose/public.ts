/** The composition library, loaded on demand (it brings TensorFlow.js): see docs/compose.md. */
export { ComposeModel, type TrainingSummary } from './model.js';
export { composeQuery, embedGallery, galleryFromIndexVectors, type ComposeReference } from './query.js';
export { trainComposition, prepareImages, type TrainCompositionOptions } from './train-composition.js';
export { readTriplets, type Triplet } from './triplets.js';
export type { FusionKind, ImageEncoderKind, NetworkConfig } from './network.js';
export { generateCss, type CssDataset, type CssGenerateOptions } from '../eval/css/generate.js';
export { evalCss, type CssReport, type CssEvalOptions } from '../eval/css/css-eval.js';
