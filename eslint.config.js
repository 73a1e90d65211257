import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** node:child_process functions that start a program. */
const CHILD_PROCESS_CALLS = '/^(spawn|spawnSync|execFile|execFileSync|exec|execSync|fork)$/';

export default tseslint.config(
  { ignores: ['node_modules/', 'reports/', 'scratch/', 'schema/', 'sut/*/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Issue 7: no child process inherits the drill's environment (tokens, DRILL_EVIDENCE_KEY, the
    // values of a scenario's ${VAR}s). Every child gets `env: childEnvironment(...)`
    // (src/targets/process/child-environment.ts); tests may start the CLI as a user's shell would.
    files: ['src/**', 'drills/**', 'bin/**', 'bench/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: `CallExpression[callee.name=${CHILD_PROCESS_CALLS}]:not(:has(Property[key.name="env"]))`,
          message: 'A child process gets an explicit environment: pass env: childEnvironment(...) (src/targets/process/child-environment.ts).',
        },
        {
          selector: `CallExpression[callee.name=${CHILD_PROCESS_CALLS}] > ObjectExpression > Property[key.name="env"]:not([value.type="CallExpression"])`,
          message: 'Build a child\'s environment with childEnvironment(...) (src/targets/process/child-environment.ts), not by hand.',
        },
        {
          // process.env itself (or a spread of it); reading one variable, process.env.PATH, is fine.
          selector: 'Property[key.name="env"] MemberExpression[object.name="process"][property.name="env"]:not(MemberExpression > MemberExpression.object)',
          message: 'Never hand process.env (or a copy of it) to a child: use childEnvironment(...) (src/targets/process/child-environment.ts).',
        },
      ],
    },
  },
  {
    // DESIGN.md section 7: the drill lifecycle reaches targets only through the target registry
    // (src/targets/target-kinds.ts) and the drill context's parts, so a new target kind needs no
    // change here. Type imports are the interfaces at the boundary and stay allowed.
    files: ['src/engine/run-drill.ts', 'src/engine/build-context.ts', 'src/engine/provision-targets.ts', 'src/engine/drill-context.ts', 'src/engine/drill-registries.ts', 'src/engine/phases/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/targets/*/**', '!**/targets/network/**'],
              allowTypeImports: true,
              message: 'The engine does not name a target: add or change a target kind in src/targets/target-kinds.ts, and reach it through the DrillContext\'s parts.',
            },
          ],
        },
      ],
    },
  },
  {
    // Clean-up rule: a temp directory a drill makes is in the run ledger BEFORE it exists, so a kill
    // -9 between creating and recording cannot leave one no reaper knows of. mkdtemp creates first:
    // use createRecordedTempDir / unusedTempDirName (src/engine/recorded-temp-dir.ts).
    files: ['src/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['node:fs', 'node:fs/promises', 'fs', 'fs/promises'].map((name) => ({
            name,
            importNames: ['mkdtemp', 'mkdtempSync'],
            message: 'Record a temp directory before it exists: createRecordedTempDir(ctx.ledger, "drill-…") (src/engine/recorded-temp-dir.ts).',
          })),
        },
      ],
    },
  },
  {
    // The CLI is the one place that prints; everything else uses `debug` or the progress reporter.
    files: ['src/cli.ts', 'src/cli/**', 'bin/**', 'bench/**', 'tools/**'],
    languageOptions: { globals: globals.node },
    rules: { 'no-console': 'off' },
  },
);
