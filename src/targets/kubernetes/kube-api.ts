import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';

/** The typed API groups drills use, made once per cluster connection. */
export interface KubeApi {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly discovery: DiscoveryV1Api;
  readonly coordination: CoordinationV1Api;
  readonly policy: PolicyV1Api;
  /** Any kind, by apiVersion/kind (for applying manifests). */
  readonly objects: KubernetesObjectApi;
}

export function kubeApi(kc: KubeConfig): KubeApi {
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    discovery: kc.makeApiClient(DiscoveryV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
    policy: kc.makeApiClient(PolicyV1Api),
    objects: KubernetesObjectApi.makeApiClient(kc),
  };
}

/** Request options for a JSON Patch (RFC 6902), said explicitly rather than left to the client's default. */
export const JSON_PATCH = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
/** Request options for a JSON merge patch (client-node sends JSON Patch unless told otherwise). */
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
/** Strategic merge patch: what `kubectl patch` sends by default. */
export const STRATEGIC_MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

/** The HTTP status of a failed API call (client-node's ApiException carries it as `code`). */
export function apiStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function isNotFound(error: unknown): boolean {
  return apiStatus(error) === 404;
}

/** The apiserver's own message for a failed call (its Status body), else the error's message. */
export function apiMessage(error: unknown): string {
  const body = (error as { body?: unknown } | null)?.body;
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') {
    return (body as { message: string }).message;
  }
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: string };
      if (parsed.message) return parsed.message;
    } catch {
      /* not JSON */
    }
  }
  return error instanceof Error ? error.message : String(error);
}
