import { describe, expect, it } from 'vitest';
import { classifyByScores, labelScores, type LabelScorer } from '../src/classify/label-scores.js';

/** A text signal over three items that reads "cat" and "dog" but not "qwxz" (it returns null, as the concepts signal does). */
const scorer: LabelScorer = {
  score: async (words) => {
    if (words[0] === 'cat') return { scores: Float32Array.of(0.9, 0.2, 0.1) };
    if (words[0] === 'dog') return { scores: Float32Array.of(0.1, 0.8, 0.3) };
    return null;
  },
};

describe('label names as zero-shot classes', () => {
  it('reports a name no signal understands, and keeps the figures of the others', async () => {
    const names = ['cat', 'qwxz', 'dog'];
    const { scores, notUnderstood } = await labelScores(scorer, names, ['a', 'b', 'c']);
    expect(notUnderstood).toEqual(['qwxz']);
    expect(scores[1]).toBeNull();
    // Items 0 (cat) and 1 (dog) are right; item 2 (labelled qwxz) cannot be, and is counted as missed.
    const r = classifyByScores(scores, [0, 1, 2], [0, 2, 1]);
    expect(r.accuracy).toBeCloseTo(2 / 3);
    expect(r.confusion).toEqual([
      [1, 0, 0],
      [0, 0, 1],
      [0, 0, 1],
    ]);
  });

  it('predicts nothing when no name at all is understood', async () => {
    const { scores, notUnderstood } = await labelScores(scorer, ['qwxz', 'zzz'], ['a']);
    expect(notUnderstood).toEqual(['qwxz', 'zzz']);
    expect(classifyByScores(scores, [0], [0])).toEqual({
      accuracy: 0,
      confusion: [
        [0, 0],
        [0, 0],
      ],
    });
  });
});
