import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { VERSION } from '../version.js';
import { EXIT, type GlobalOptions } from './run.js';
import { hintUnknownOption, noteShortOptionWords } from './usage.js';

// What the command lines share: `visor` (src/cli/main.ts) and `visor-lab` (lab/cli/main.ts)
// take the same global options, parse numbers the same way, and fail with the same exit codes.

export function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

export function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

// Numbers are checked where they are typed: "abc" would otherwise reach training as NaN.
export function nonNegativeNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number ≥ 0`);
    return n;
  };
}

export function positiveNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
    return n;
  };
}

/** A repeatable option's values, in order. */
export const collect = (v: string, prev: string[]) => [...prev, v];

export const progressOption = () =>
  new Option('--progress <mode>', 'progress display on stderr').choices(['auto', 'bar', 'lines', 'json', 'none']).default('auto');

const wantsJson = () => process.argv.includes('--json');

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/** A program with the global options (--db, --json) and the shared error handling. */
export function visorProgram(name: string, description: string): Command {
  // `visor search … --json | head`: the reader has gone, so stop quietly (as Unix tools do), not
  // with an unhandled EPIPE stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const json = wantsJson();
  return (
    new Command()
      .name(name)
      .description(description)
      .version(VERSION)
      .option(
        '--db <dir>',
        'index folder, or s3://bucket/prefix for a sharded collection in object storage (default: $VISOR_DB, else ~/.local/share/visor/index)',
      )
      .option('--json', 'machine-readable output on stdout')
      // Every command takes --db and --json: its own --help lists them too.
      .configureHelp({ showGlobalOptions: true })
      .showHelpAfterError('(run with --help for usage)')
      // A wrong command line is wrong input like any other: exit code 2, and a JSON error with --json.
      .configureOutput({ outputError: (text, write) => (json ? undefined : write(text)) })
      .exitOverride()
  );
}

/**
 * Parses argv and runs the command. A wrong command line ends with exit code 2 (and a JSON
 * error with --json); help and --version end here too, with exit code 0. `onUsageError` may add
 * a hint on stderr.
 */
export async function parseProgram(program: Command, onUsageError?: (e: CommanderError) => void): Promise<void> {
  noteShortOptionWords(process.argv);
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    if (e.exitCode !== 0 && wantsJson()) process.stdout.write(`${JSON.stringify({ error: { code: 'USAGE', message: e.message.replace(/^error: /, '') } })}\n`);
    hintUnknownOption(e, process.argv);
    if (e.exitCode !== 0) onUsageError?.(e);
    process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
}
