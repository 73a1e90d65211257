import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { matchesSelector, parseSelector, SelectorSyntaxError, selectorFromLabels } from '../../src/targets/kubernetes/label-selector.js';
import { busiestNode, choosePods, killCount } from '../../src/targets/kubernetes/pod-choice.js';

describe('label selectors', () => {
  it('parses equality, set and existence terms and matches like the apiserver', () => {
    const s = parseSelector('app=truststream-api, version!=green,tier in (web, api),!legacy,drill.dev/target');
    expect(s).toEqual([
      { key: 'app', op: 'in', values: ['truststream-api'] },
      { key: 'version', op: 'notin', values: ['green'] },
      { key: 'tier', op: 'in', values: ['web', 'api'] },
      { key: 'legacy', op: '!exists' },
      { key: 'drill.dev/target', op: 'exists' },
    ]);
    const labels = { app: 'truststream-api', version: 'blue', tier: 'api', 'drill.dev/target': 'true' };
    expect(matchesSelector(s, labels)).toBe(true);
    expect(matchesSelector(s, { ...labels, version: 'green' })).toBe(false);
    expect(matchesSelector(s, { ...labels, legacy: 'x' })).toBe(false);
    expect(matchesSelector(parseSelector('version!=green'), {})).toBe(true);
  });

  it('rejects what kubectl would, with a message naming the term', () => {
    expect(() => parseSelector('')).toThrow(SelectorSyntaxError);
    expect(() => parseSelector('app=a b')).toThrow(/cannot read "app=a b"/);
    expect(() => parseSelector('-app=x')).toThrow(/"-app" in "-app=x" is not a valid label key/);
    expect(() => parseSelector('app in (a,b c)')).toThrow(/"b c"/);
  });

  it('prints a label map as a stable selector', () => {
    expect(selectorFromLabels({ version: 'green', app: 'api' })).toBe('app=api,version=green');
  });
});

const pod = (name: string, node: string, phase = 'Running', terminating = false): V1Pod => ({
  metadata: { name, ...(terminating ? { deletionTimestamp: new Date() } : {}) },
  spec: { nodeName: node, containers: [] },
  status: { phase },
});

describe('pod choice for k8s-pod-kill', () => {
  it('counts one, all, N and a percentage rounded up, never more than there are', () => {
    expect(killCount(3, 'one')).toBe(1);
    expect(killCount(3, 'all')).toBe(3);
    expect(killCount(3, { count: 5 })).toBe(3);
    expect(killCount(3, { percent: 50 })).toBe(2);
    expect(killCount(10, { percent: 1 })).toBe(1);
    expect(killCount(0, 'all')).toBe(0);
  });

  it('chooses only live pods, at random, listed by name', () => {
    const pods = [pod('c', 'n1'), pod('a', 'n1'), pod('b', 'n2'), pod('gone', 'n2', 'Running', true), pod('pending', 'n3', 'Pending')];
    expect(choosePods(pods, 'all').map((p) => p.metadata?.name)).toEqual(['a', 'b', 'c']);
    // random() = 0 always swaps with the first element: a fixed, checkable order.
    expect(choosePods(pods, { count: 2 }, () => 0).map((p) => p.metadata?.name)).toEqual(['a', 'b']);
    expect(choosePods(pods, { count: 2 }, () => 0.99).map((p) => p.metadata?.name)).toEqual(['a', 'c']);
  });

  it('finds the node running most live pods, ties broken by name', () => {
    expect(busiestNode([pod('a', 'n2'), pod('b', 'n1'), pod('c', 'n2'), pod('d', 'n1')])).toBe('n1');
    expect(busiestNode([pod('a', 'n2'), pod('b', 'n2'), pod('c', 'n1')])).toBe('n2');
    expect(busiestNode([pod('a', 'n2', 'Pending')])).toBeUndefined();
  });
});
