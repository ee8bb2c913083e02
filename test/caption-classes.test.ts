import { beforeAll, describe, expect, it } from 'vitest';
import { CaptionClasses, statedCount } from '../lab/eval/caption-classes.js';

describe('person and dog words in captions (eval detection ground truth)', () => {
  let classes: CaptionClasses;
  beforeAll(async () => {
    classes = await CaptionClasses.load();
  });

  it('finds people and dogs by WordNet, longest phrase first, and skips other senses', () => {
    const of = (c: string) => Object.fromEntries(classes.mentions(c));
    expect(of('Two children and a man watch a German shepherd')).toEqual({ person: ['children', 'man'], dog: ['german shepherd'] });
    expect(of('A skateboarder jumps while a crowd of onlookers cheers')).toEqual({ person: ['skateboarder', 'crowd', 'onlookers'] });
    expect(of('A black lab and a puppies play')).toEqual({ dog: ['lab', 'puppies'] });
    // "white" and "black" are people in one of WordNet's senses; "toy" names a small dog in one.
    expect(of('A white and black dog carries a toy')).toEqual({ dog: ['dog'] });
    expect(of('A boxer jumps in the grass')).toEqual({});
  });

  it('reads the numbers captions give and the count they agree on', () => {
    expect(classes.mentionList('A brown dog and two small black dogs')).toEqual([
      { cls: 'dog', phrase: 'dog', count: 1 },
      { cls: 'dog', phrase: 'dogs', count: 2 },
    ]);
    expect(classes.mentionList('a few dogs and a crowd')).toEqual([
      { cls: 'dog', phrase: 'dogs' },
      { cls: 'person', phrase: 'crowd' },
    ]);
    const captions = ['Three dogs run', 'Three brown dogs in snow', 'Dogs play', 'Two dogs and a puppy', 'A man walks'];
    expect(statedCount(captions, 'dog', classes)).toBe(3);
    expect(statedCount(captions, 'person', classes)).toBeUndefined(); // one caption only
  });
});
