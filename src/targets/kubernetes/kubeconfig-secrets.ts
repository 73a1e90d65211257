import type { KubeConfig } from '@kubernetes/client-node';
import type { SecretSink } from '../../report/redactor.js';

/**
 * Registers every credential a kubeconfig holds (bearer tokens, basic-auth passwords, client keys,
 * auth-provider tokens) with the run's Redactor, whoever made the cluster: an apiserver error or a
 * client's debug line that quotes one must not carry it into an artifact.
 */
export function registerKubeconfigSecrets(kc: KubeConfig, sink: SecretSink): void {
  for (const user of kc.getUsers()) {
    const what = (field: string) => `${field} of kubeconfig user ${user.name}`;
    sink.register(user.token, what('token'));
    sink.register(user.password, what('password'));
    sink.register(user.keyData, what('client key'));
    if (user.keyData) sink.register(Buffer.from(user.keyData, 'base64').toString('utf8').trim(), what('client key'));
    const config = (user.authProvider as { config?: Record<string, string> } | undefined)?.config ?? {};
    for (const field of ['access-token', 'id-token', 'refresh-token', 'client-secret']) sink.register(config[field], what(field));
  }
}
