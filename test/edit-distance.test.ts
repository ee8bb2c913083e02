import { describe, expect, it } from 'vitest';
import { editDistance, nearMatch, typoBudget } from '../src/text/edit-distance.js';

describe('edit distance', () => {
  it('counts insertions, deletions and substitutions, and stops early past a bound', () => {
    expect(editDistance('feeder', 'feeder')).toBe(0);
    expect(editDistance('eeder', 'feeder')).toBe(1);
    expect(editDistance('feeler', 'feeder')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting', 1)).toBe(2);
    expect(editDistance('a', 'abcdef', 2)).toBe(3);
  });

  it('forgives one edit from five letters and two from nine, never in numbers', () => {
    expect([4, 5, 8, 9].map(typoBudget)).toEqual([0, 1, 1, 2]);
    expect(nearMatch('eeder', 'feeder')).toBe(true);
    expect(nearMatch('feeder', 'feeder')).toBe(false);
    expect(nearMatch('pars', 'park')).toBe(false);
    expect(nearMatch('joumalist', 'journalist')).toBe(true);
    expect(nearMatch('85234', '85235')).toBe(false);
  });
});
