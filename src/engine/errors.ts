/**
 * Typed errors with a stable code and a message that says what to do. They are mapped to output
 * and exit codes once, at the CLI (DESIGN.md section 6).
 */
export type ErrorKind = 'input' | 'environment' | 'check' | 'interrupted' | 'internal';

export class DrillError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly kind: ErrorKind = 'internal',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DrillError';
  }
}

/** Bad scenario, flag or environment variable: exit 2, nothing touched. */
export class InputError extends DrillError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, 'input', options);
    this.name = 'InputError';
  }
}

/** A target could not be provisioned or reached: exit 3, never a pass. */
export class EnvironmentError extends DrillError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, 'environment', options);
    this.name = 'EnvironmentError';
  }
}

/** A recovery step ran and its postcondition did not hold: the drill fails (exit 1). */
export class StepFailedError extends DrillError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, 'check', options);
    this.name = 'StepFailedError';
  }
}

/** The drill was stopped from outside (Ctrl-C, SIGTERM, its `drill run` gone: RUN_COMMAND_GONE); teardown ran. */
export class InterruptedError extends DrillError {
  constructor(message = 'interrupted (SIGINT/SIGTERM); teardown ran', code = 'INTERRUPTED') {
    super(code, message, 'interrupted');
    this.name = 'InterruptedError';
  }
}

export function asDrillError(error: unknown): DrillError {
  if (error instanceof DrillError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new DrillError('INTERNAL', message, 'internal', { cause: error });
}
