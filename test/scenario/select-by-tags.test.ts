import { describe, expect, it } from 'vitest';
import { describeSelection, selectedByTags } from '../../src/scenario/select-by-tags.js';

describe('--tag / --exclude-tag', () => {
  const none = { tags: [], excludeTags: [] };
  it('without flags every scenario is selected, tagged or not', () => {
    expect(selectedByTags([], none)).toBe(true);
    expect(selectedByTags(['postgres'], none)).toBe(true);
  });
  it('--tag keeps scenarios carrying any of the tags given', () => {
    const s = { tags: ['postgres', 'kubernetes'], excludeTags: [] };
    expect(selectedByTags(['database', 'postgres'], s)).toBe(true);
    expect(selectedByTags(['kubernetes'], s)).toBe(true);
    expect(selectedByTags(['region'], s)).toBe(false);
    expect(selectedByTags([], s)).toBe(false);
  });
  it('--exclude-tag drops a scenario carrying any of them, and wins over --tag', () => {
    const s = { tags: ['postgres'], excludeTags: ['negative-control', 'slow'] };
    expect(selectedByTags(['postgres'], s)).toBe(true);
    expect(selectedByTags(['postgres', 'negative-control'], s)).toBe(false);
    expect(selectedByTags(['postgres', 'slow'], s)).toBe(false);
    expect(selectedByTags(['negative-control'], { tags: [], excludeTags: ['negative-control'] })).toBe(false);
  });
  it('says what was asked', () => {
    expect(describeSelection({ tags: ['a', 'b'], excludeTags: ['c'] })).toBe('--tag a, b and --exclude-tag c');
  });
});
