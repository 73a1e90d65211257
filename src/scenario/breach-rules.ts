import type { PathIssue } from './issues.js';
import { isRecord } from './schema-walk.js';

/**
 * Cross-key rules of the leaked-credential vocabulary (breach-schema.ts): what is built for the
 * plain-process service and not yet for the service on Kubernetes.
 */
export function breachIssues(data: unknown): PathIssue[] {
  const issues: PathIssue[] = [...serviceAccountKeyIssues(data), ...signingKeyRotationIssues(data), ...leakedPodIsolationIssues(data)];
  if (!isRecord(data)) return issues;
  if (!isRecord(data.targets) || !isRecord(data.targets.kubernetes)) {
    (Array.isArray(data.recovery) ? data.recovery : []).forEach((s, i) => {
      if (isRecord(s) && s.step === 'revoke-all-tokens' && 'serviceAccountTokens' in s) {
        issues.push({
          path: ['recovery', i, 'serviceAccountTokens'],
          anchor: 'key',
          message: 'serviceAccountTokens says which Kubernetes tokens revoke-all-tokens revokes, and the scenario has no targets.kubernetes; remove it, or add the target',
        });
      }
    });
    return issues;
  }
  const faults = Array.isArray(data.faults) ? data.faults : [];
  faults.forEach((f, i) => {
    if (isRecord(f) && f.type === 'credential-leak' && f.kind === 'api-token') {
      issues.push({
        path: ['faults', i, 'kind'],
        anchor: 'value',
        message:
          'credential-leak api-token runs against the plain-process service (targets.service) for now: on Kubernetes its attacker would have to dial pod addresses, ' +
          'and it contacts loopback only; use kind: postgres-password here, or a scenario with targets.service',
      });
    }
  });
  const steps = Array.isArray(data.recovery) ? data.recovery : [];
  steps.forEach((s, i) => {
    if (isRecord(s) && s.step === 'revoke-all-tokens' && s.reissue !== false && s.apiTokens !== false) {
      issues.push({
        path: ['recovery', i, 'step'],
        anchor: 'value',
        message: 'revoke-all-tokens cannot yet give the drill\'s clients a new token on Kubernetes (the token is in the service\'s Secret): set reissue: false (or apiTokens: false to leave the API tokens alone)',
      });
    }
  });
  return issues;
}

/** `serviceAccount` and `tokens` say which Kubernetes tokens leak: on another kind they would be silently ignored. */
function serviceAccountKeyIssues(data: unknown): PathIssue[] {
  if (!isRecord(data) || !Array.isArray(data.faults)) return [];
  return data.faults.flatMap((f, i): PathIssue[] => {
    if (!isRecord(f) || f.type !== 'credential-leak' || f.kind === 'k8s-service-account-token') return [];
    return (['serviceAccount', 'tokens'] as const)
      .filter((key) => key in f)
      .map((key) => ({
        path: ['faults', i, key],
        anchor: 'key' as const,
        message: `${key} applies to kind: k8s-service-account-token only (this fault leaks a ${String(f.kind)}); remove it`,
      }));
  });
}

/**
 * rotateSigningKey restarts kube-apiserver with a new key: only on a control plane the drill
 * starts itself (provider: local), never on kind, someone's cluster, or `auto` (which may pick
 * either); and only with serviceAccountTokens: all (bound-only is the negative control of "all").
 */
function signingKeyRotationIssues(data: unknown): PathIssue[] {
  if (!isRecord(data) || !Array.isArray(data.recovery)) return [];
  const kubernetes = isRecord(data.targets) && isRecord(data.targets.kubernetes) ? data.targets.kubernetes : undefined;
  const provider = kubernetes ? (typeof kubernetes.provider === 'string' ? kubernetes.provider : 'auto') : undefined;
  return data.recovery.flatMap((s, i): PathIssue[] => {
    if (!isRecord(s) || s.step !== 'revoke-all-tokens' || s.rotateSigningKey !== true) return [];
    if (provider !== 'local') {
      return [
        {
          path: ['recovery', i, 'rotateSigningKey'],
          anchor: 'key',
          message:
            `rotateSigningKey restarts kube-apiserver with a new service-account key, which the drill does only on a control plane it starts itself, and targets.kubernetes.provider is ${provider ?? 'missing (no targets.kubernetes)'}; ` +
            'set targets.kubernetes.provider: local (and run without DRILL_KUBECONFIG), or remove rotateSigningKey',
        },
      ];
    }
    if (s.serviceAccountTokens === 'bound-only') {
      return [{ path: ['recovery', i, 'rotateSigningKey'], anchor: 'key', message: 'rotateSigningKey revokes every service-account token, and serviceAccountTokens is bound-only; use serviceAccountTokens: all, or remove rotateSigningKey' }];
    }
    return [];
  });
}

/**
 * `compromised: leaked-pods` isolates the pods leaked tokens are bound to: without a pod-bound token
 * leaking there is none; and `serviceAccount` (which picks the pods otherwise) would be ignored.
 */
function leakedPodIsolationIssues(data: unknown): PathIssue[] {
  if (!isRecord(data) || !Array.isArray(data.recovery)) return [];
  const faults = Array.isArray(data.faults) ? data.faults : [];
  const podTokenLeaks = faults.some((f) => isRecord(f) && f.type === 'credential-leak' && f.kind === 'k8s-service-account-token' && Array.isArray(f.tokens) && f.tokens.includes('pod'));
  return data.recovery.flatMap((s, i): PathIssue[] => {
    if (!isRecord(s) || s.step !== 'isolate-compromised-nodes' || s.compromised !== 'leaked-pods') return [];
    const issues: PathIssue[] = [];
    if ('serviceAccount' in s) {
      issues.push({ path: ['recovery', i, 'serviceAccount'], anchor: 'key', message: 'serviceAccount picks the compromised pods with compromised: service-account; with leaked-pods the leaked tokens name them: remove it' });
    }
    if (!podTokenLeaks) {
      issues.push({
        path: ['recovery', i, 'compromised'],
        anchor: 'value',
        message: 'compromised: leaked-pods isolates the pods leaked tokens are bound to, and no fault leaks one; add tokens: [pod] to a credential-leak of kind k8s-service-account-token, or use compromised: service-account',
      });
    }
    return issues;
  });
}
