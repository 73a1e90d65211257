import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expandScenarioArgs } from '../../src/cli/scenario-args.js';

/**
 * The commands a CI file (GitHub workflow, GitLab job) runs, checked against this repository:
 * every `npm run X` a script of package.json, every `npx drill SUB` a command of the CLI with
 * only flags it has (asked from the CLI's own --help), and every scenario argument of
 * `drill run`/`drill validate` a file, directory or glob that holds scenarios.
 */
export interface CliFacts {
  scripts: Set<string>;
  commands: Set<string>;
  /** A command's flags, and whether each takes a value (asked once per command: each --help starts the CLI). */
  flags: (command: string) => Map<string, boolean>;
}

export function repositoryFacts(root: string): CliFacts {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const help = (...args: string[]) => execFileSync(process.execPath, [path.join(root, 'bin/drill.mjs'), ...args, '--help'], { cwd: root, encoding: 'utf8' });
  const commands = new Set([...help().matchAll(/^ {2}([a-z][a-z-]*) /gm)].map((m) => m[1]!).filter((c) => c !== 'help'));
  const asked = new Map<string, Map<string, boolean>>();
  const flags = (command: string) => {
    if (!asked.has(command)) asked.set(command, new Map([...help(command).matchAll(/(?:^|[ ,])(--[a-z][a-z-]*)( [<[])?/gm)].map((m) => [m[1]!, m[2] !== undefined])));
    return asked.get(command)!;
  };
  return { scripts: new Set(Object.keys(pkg.scripts)), commands, flags };
}

/** Shell text (one `run:` block, one script line) as simple commands, each as words. */
export function simpleCommands(shell: string): string[][] {
  return shell
    .replace(/\\\n/g, ' ')
    .split(/\n|&&|\|\||;|\|/)
    .map((c) => (c.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).map((w) => w.replace(/^(["'])(.*)\1$/, '$2')))
    .filter((words) => words.length > 0 && !words[0]!.startsWith('#'));
}

/** Who a command runs as: `sudo -E` keeps the caller's environment (HOME too), plain `sudo` does not. */
export type RunsAs = 'caller' | 'root-with-caller-env' | 'root';

/** A command without its `sudo [-E] [env VAR=value...]` prefix, and who it runs as. */
export function unprivileged(words: readonly string[]): { words: string[]; as: RunsAs } {
  if (words[0] !== 'sudo') return { words: [...words], as: 'caller' };
  let i = 1;
  let keepEnv = false;
  for (; i < words.length && words[i]!.startsWith('-'); i++) if (/^-[a-zA-Z]*E/.test(words[i]!) || words[i] === '--preserve-env') keepEnv = true;
  if (words[i] === 'env') for (i++; i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!); i++);
  return { words: words.slice(i), as: keepEnv ? 'root-with-caller-env' : 'root' };
}

export async function lintCommands(shell: string, facts: CliFacts, root: string): Promise<string[]> {
  const problems: string[] = [];
  for (const words of simpleCommands(shell).map((w) => unprivileged(w).words)) {
    const line = words.join(' ');
    if (words[0] === 'npm' && words[1] === 'run' && !facts.scripts.has(words[2] ?? '')) problems.push(`${line}: package.json has no script "${words[2]}"`);
    if (words[0] === 'npm' && words[1] === 'test' && !facts.scripts.has('test')) problems.push(`${line}: package.json has no test script`);
    if (words[0] === 'npx' && words[1] === 'drill') problems.push(...(await lintDrill(words.slice(2), facts, root)).map((p) => `${line}: ${p}`));
  }
  return problems;
}

async function lintDrill(args: string[], facts: CliFacts, root: string): Promise<string[]> {
  const [command, ...rest] = args;
  if (!command || !facts.commands.has(command)) return [`drill has no command "${command}" (it has: ${[...facts.commands].join(', ')})`];
  const flags = facts.flags(command);
  const problems: string[] = [];
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    if (!word.startsWith('--')) {
      positional.push(word);
      continue;
    }
    const flag = word.split('=')[0]!;
    if (!flags.has(flag)) problems.push(`drill ${command} has no flag ${flag}`);
    else if (flags.get(flag) && !word.includes('=')) i++;
  }
  if (command === 'run' || command === 'validate') {
    if (positional.length === 0) problems.push(`drill ${command} names no scenario`);
    else {
      await expandScenarioArgs(positional, root).catch((error: unknown) => problems.push((error as Error).message));
    }
  }
  return problems;
}

/** Every value given to a flag in a command line (`--exclude-tag a --exclude-tag b`). */
export function flagValues(shell: string, flag: string): string[] {
  return simpleCommands(shell).flatMap((words) => words.flatMap((w, i) => (w === flag && words[i + 1] !== undefined ? [words[i + 1]!] : [])));
}

/** The value given to a flag in a command line (`--junit reports/junit.xml`). */
export function flagValue(shell: string, flag: string): string | undefined {
  for (const words of simpleCommands(shell)) {
    const at = words.indexOf(flag);
    if (at >= 0) return words[at + 1];
  }
  return undefined;
}
