import type { NetworkConfig } from '../../../src/compose/network.js';
import type { TfBackend } from '../../../src/compose/tf.js';
import type { EpochLog, TrainNetworkOptions, TripletRows } from './train.js';

/** What a training worker is given (its workerData). */
export interface TrainJob {
  backend?: TfBackend;
  config: NetworkConfig;
  /** An ImageTable's fields; `data` lives in a SharedArrayBuffer, so no copy is made. */
  images: { count: number; shape: number[]; data: Uint8Array | Float32Array; offset: number; scale: number };
  textRows: Float32Array;
  triplets: TripletRows[];
  settings: Omit<TrainNetworkOptions, 'onStep'>;
}

export type TrainerMessage =
  | { type: 'step'; epoch: number; step: number; steps: number; loss: number }
  | { type: 'done'; weights: Record<string, { shape: number[]; data: Float32Array }>; log: EpochLog[] }
  | { type: 'error'; message: string };
