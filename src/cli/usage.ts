import type { CommanderError } from 'commander';

/** Where the `search` command is in argv (past the global --db and --json), or -1. */
function searchAt(argv: readonly string[]): number {
  let i = 2;
  while (argv[i] === '--json' || argv[i] === '--db' || argv[i]?.startsWith('--db=')) i += argv[i] === '--db' ? 2 : 1;
  return argv[i] === 'search' ? i : -1;
}

/**
 * `visor search dog -tree` unquoted: commander reads -tree as -t ree (likewise -i, -k, -w), not
 * as a word to push away. The README's form is quoted; say what happened rather than search for "ree".
 */
export function noteShortOptionWords(argv: readonly string[]): void {
  const at = searchAt(argv);
  if (at < 0) return;
  const end = argv.indexOf('--', at);
  for (const arg of argv.slice(at + 1, end < 0 ? undefined : end)) {
    const m = /^-([iktw])([a-z]{2,})$/.exec(arg);
    if (m)
      process.stderr.write(
        `note: ${arg} was read as -${m[1]} ${m[2]}; to push results away from "${arg.slice(1)}", put it inside the quoted query, e.g. visor search "dog ${arg}"\n`,
      );
  }
}

/** `visor search dog -grass` unquoted: -grass reaches commander as an unknown option, not a negative word. */
export function hintUnknownOption(e: CommanderError, argv: readonly string[]): void {
  const word = /^error: unknown option '(-[^-][^']+)'/.exec(e.message)?.[1];
  if (word && searchAt(argv) >= 0) {
    process.stderr.write(`(to push results away from "${word.slice(1)}", put it inside the quoted query, e.g. visor search "dog ${word}", or after --)\n`);
  }
}
