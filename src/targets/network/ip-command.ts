import { runCommand, type CommandResult } from '../process/run-command.js';

/** `ip` in the current network namespace. */
export function ip(args: string[], okCodes?: number[]): Promise<CommandResult> {
  return runCommand('ip', args, { timeoutMs: 15_000, ...(okCodes ? { okCodes } : {}) });
}

/** `ip` inside a named namespace (`ip -n`). */
export function ipIn(netns: string, args: string[], okCodes?: number[]): Promise<CommandResult> {
  return ip(['-n', netns, ...args], okCodes);
}
