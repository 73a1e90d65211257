import { DrillError } from '../../engine/errors.js';

/**
 * A migration command that could not do what it was asked. Callers decide what it means: an
 * environment failure while provisioning, a failed postcondition in a recovery step.
 */
export class MigrationError extends DrillError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, 'internal', options);
    this.name = 'MigrationError';
  }
}
