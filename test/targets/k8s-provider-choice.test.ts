import { describe, expect, it } from 'vitest';
import { chooseKubernetesProvider } from '../../src/targets/kubernetes/choose-kubernetes-provider.js';

const docker = (answers: boolean) => async () => answers;

describe('chooseKubernetesProvider', () => {
  it('auto: a running cluster named by DRILL_KUBECONFIG first, then kind when Docker answers, else a local control plane', async () => {
    expect(await chooseKubernetesProvider('auto', { DRILL_KUBECONFIG: '/k' }, docker(true))).toMatchObject({ name: 'local', how: 'reuse-local', kubeconfig: '/k' });
    expect(await chooseKubernetesProvider('auto', {}, docker(true))).toMatchObject({ name: 'kind', why: 'auto: a Docker engine answers' });
    expect(await chooseKubernetesProvider('auto', {}, docker(false))).toMatchObject({ name: 'local', how: 'start-local' });
  });

  it('an explicit provider is taken as asked; local reuses DRILL_KUBECONFIG too', async () => {
    const never = async () => {
      throw new Error('Docker need not be asked');
    };
    expect(await chooseKubernetesProvider('kind', { DRILL_KUBECONFIG: '/k' }, never)).toMatchObject({ name: 'kind', how: 'kind' });
    expect(await chooseKubernetesProvider('kubeconfig', { DRILL_KUBECONFIG: '/k' }, never)).toMatchObject({ name: 'kubeconfig', how: 'kubeconfig' });
    expect(await chooseKubernetesProvider('local', {}, never)).toMatchObject({ name: 'local', how: 'start-local' });
    expect(await chooseKubernetesProvider('local', { DRILL_KUBECONFIG: '/k' }, never)).toMatchObject({ how: 'reuse-local' });
  });
});
