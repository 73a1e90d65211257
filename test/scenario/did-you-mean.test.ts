import { describe, expect, it } from 'vitest';
import { closestMatch, editDistance } from '../../src/scenario/did-you-mean.js';
import { suggestDuration } from '../../src/scenario/duration-suggest.js';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['rto', 'rto', 0],
    ['rtoo', 'rto', 1],
    ['expct', 'expect', 1],
    ['rot', 'rto', 1],
    ['kitten', 'sitting', 3],
    ['', 'abc', 3],
  ])('%s -> %s is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe('closestMatch', () => {
  const keys = ['rto', 'rpo', 'stability', 'integrity', 'writesLostAfterFault'];

  it('suggests a plausible typo target', () => {
    expect(closestMatch('rtoo', keys)).toBe('rto');
    expect(closestMatch('stabilty', keys)).toBe('stability');
    expect(closestMatch('RPO', keys)).toBe('rpo');
  });

  it('stays quiet when nothing is close', () => {
    expect(closestMatch('banana', keys)).toBeUndefined();
    expect(closestMatch('x', ['before-fault', 'latest'])).toBeUndefined();
  });
});

describe('suggestDuration', () => {
  it.each([
    ['15 minutes', '15m'],
    ['1 hour 30 mins', '1h30m'],
    ['30 sec', '30s'],
    ['500 ms', '500ms'],
  ])('%s -> %s', (text, suggestion) => {
    expect(suggestDuration(text)).toBe(suggestion);
  });

  it.each(['15', 'soon', '15 parsecs', 'about 5m'])('no suggestion for %s', (text) => {
    expect(suggestDuration(text)).toBeUndefined();
  });
});
