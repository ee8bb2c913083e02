import type { DomainStages } from '../../domain/stages.js';
import type { Stage } from '../signal.js';
import { LocalizeStage } from './localize.js';
import { NarrowStage } from './narrow.js';
import { RerankStage } from './rerank.js';

/**
 * The optional stages, in the order they run: localisation replaces the visual scores,
 * re-ranking reorders the head, narrowing (last) takes its tier bonus back off the scores shown.
 */
export function optionalStages(data: () => Promise<DomainStages>): { stages: Stage[]; close(): Promise<void> } {
  let kernel: ReturnType<typeof import('../../store/exact-kernel.js').ExactKernel.create> | undefined;
  const scoreMatrix = async (query: Float32Array, matrix: Float32Array, rows: number) => {
    const { ExactKernel } = await import('../../store/exact-kernel.js');
    kernel ??= ExactKernel.create();
    return (await kernel).scoreAll(query, 1, matrix, rows);
  };
  return {
    stages: [new LocalizeStage(data, scoreMatrix), new RerankStage(data), new NarrowStage(data)],
    close: async () => {
      if (kernel) await (await kernel).close();
    },
  };
}
