/**
 * Everything drills/drill.test.ts uses of the harness, from one module: the drill process imports
 * it either from source (through vitest's transform, module by module) or as the prebuilt harness
 * bundle (src/cli/harness-bundle.ts), and either way gets one copy of every module.
 */
export { InterruptedError } from './errors.js';
export { FileManualGate, gateDirFor } from './manual-gate.js';
export { ResourceLedger } from './resource-ledger.js';
export { runDrill } from './run-drill.js';
export { RunLedger, runsDir } from './run-ledger.js';
export { awaitStartRequest } from './start-gate.js';
export { readPlan, runFiles } from './run-plan.js';
export { receiveVariables } from './variables-handoff.js';
export { stillRunning } from '../targets/process/process-identity.js';
export { labelDrill } from '../report/allure-labels.js';
export { environmentProperties, FAILURE_LABEL, failureLabels, measuredParameters } from '../report/allure-evidence.js';
export { redactDebugOutput } from '../report/redact-debug-output.js';
export { scenarioRedactor } from '../report/redactor.js';
export { rtoStatement } from '../report/journal-facts.js';
export { TIMELINE_PNG_FILE } from '../report/timeline-png.js';
export { TIMELINE_FILE } from '../report/timeline-svg.js';
export { summariseVerdicts } from '../report/verdict-summary.js';
export { writeRunArtifacts } from '../report/write-run-artifacts.js';
export { loadScenarioFile } from '../scenario/loader.js';
export { maskEnvironmentValues } from '../scenario/mask-environment.js';
