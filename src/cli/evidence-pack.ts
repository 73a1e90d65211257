import type { Command } from 'commander';
import { InputError } from '../engine/errors.js';
import { readVerifyingKey } from '../report/evidence-keys.js';
import { packEvidence } from '../report/evidence-pack.js';

const PROBLEM_LABEL = { tampered: 'TAMPERED', incomplete: 'INCOMPLETE', unverifiable: 'NOT VERIFIABLE' } as const;

export interface EvidencePackOptions {
  out: string;
  publicKey?: string;
}

/**
 * `drill evidence-pack <run-dir>... --out pack.tar.gz --public-key signer.pub`: 0 packed, 1 a run
 * failed verification (nothing written), 2 bad input (no key, a path that is not a run dir, an
 * --out inside a run dir or where nothing can be written), 3 the write failed.
 */
export async function evidencePackCommand(runDirs: string[], options: EvidencePackOptions): Promise<number> {
  if (!options.publicKey) {
    throw new InputError('PACK_PUBLIC_KEY_REQUIRED', "drill evidence-pack packs signed runs only: give the signer's public key with --public-key signer.pub (see `npx drill keygen`)");
  }
  const publicKey = await readVerifyingKey(options.publicKey);
  const result = await packEvidence(runDirs, { out: options.out, publicKey });
  if (!result.ok) {
    for (const { runDir, problems } of result.refused) {
      for (const p of problems) console.log(`${PROBLEM_LABEL[p.kind]}: ${runDir}: ${p.message}`);
    }
    console.log(`evidence pack NOT written: ${result.refused.length} of ${runDirs.length} run(s) failed verification with ${publicKey.source}; only runs whose signature verifies are packed`);
    return 1;
  }
  const { index } = result;
  console.log(`evidence pack: ${result.out}`);
  console.log(`  ${index.runs.length} signed run(s), verified with ${index.verifiedWith}; controls: ${index.controls.map((c) => `${c.control} (${c.runIds.length})`).join(', ')}`);
  console.log('  open index.html (or index.md) inside it; no drill needed');
  return 0;
}

export function registerEvidencePackCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('evidence-pack')
    .description('bundle signed runs for an auditor: each verified first, an index grouped by the scenarios\' compliance controls; exit 0, 1 a run failed verification, 2 invalid input, 3 environment')
    .argument('<run-dir...>', 'run directories (reports/<run-id>)')
    .option('--out <file.tar.gz>', 'the pack to write', 'evidence-pack.tar.gz')
    .option('--public-key <signer.pub>', "the signer's Ed25519 public key (from `drill keygen`): every run must verify with it")
    .action(async (runDirs: string[], opts: EvidencePackOptions) => {
      setExitCode(await evidencePackCommand(runDirs, opts));
    });
}
