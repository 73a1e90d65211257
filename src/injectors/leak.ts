import type { CredentialUse } from '../workload/attacks/credential-use.js';

/** A credential a credential-leak created and handed to the attacker (one kind's part of the fault). */
export interface Leak {
  /** Its name where the system keeps one (token name, role name). */
  name: string;
  /** For messages: "API token leaked-…", "the password of database role …". */
  what: string;
  /** How the system names it in its logs, where it does (a bound token's `JTI=...`): for the forensics. */
  credentialId?: string;
  /** The pod the credential is bound to (a pod-bound service-account token): the compromised workload. */
  boundPod?: string;
  /** The secret itself (already registered with the run's Redactor); memory only. */
  value: string;
  /** How the attacker uses it. */
  use: CredentialUse;
  /** Makes it unusable and removes it, whatever the runbook did; never throws. */
  remove(): Promise<void>;
}
