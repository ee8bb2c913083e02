import { isVisorError, errorMessage, type VisorErrorCode } from '../errors.js';

/** Exit codes: 0 done, 1 failed, 2 the command line or its input was wrong, 130 interrupted. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

const USAGE_CODES = new Set<VisorErrorCode>([
  'QUERY_INVALID',
  'FILTER_INVALID',
  'CATALOGUE_INVALID',
  'IMAGE_INVALID',
  'IMAGE_UNREADABLE',
  'NOT_FOUND',
  'INDEX_EMPTY',
  'INDEX_INCOMPATIBLE', // --db names something that is not an index this Visor and model can use (a damaged or foreign manifest): choose another --db
  'DATASET_NOT_FOUND',
  'MODEL_UNKNOWN', // a model id or file that is not a model Visor knows: what was typed is wrong
  'STORE_UNAVAILABLE', // --db s3://… or its settings name something that does not work: the configuration is wrong
  'QUEUE_UNAVAILABLE',
]);

/** What a user can do next, after the error's own message (on a terminal, not in --json). */
const HINTS: Partial<Record<VisorErrorCode, string>> = {
  DOWNLOAD_FAILED:
    "without network access: set VISOR_MODELS_PATH, or modelsPath in visor.config.json, to a folder holding the model's files; 'visor models list' names them",
};

export interface GlobalOptions {
  db?: string;
  json?: boolean;
}

/**
 * Runs a command body and turns failures into one clear line (or a JSON error object with
 * --json) and an exit code. Stack traces only with VISOR_DEBUG=1.
 */
export async function runCommand(json: boolean | undefined, body: () => Promise<number | void>): Promise<void> {
  try {
    const code = await body();
    process.exitCode = code ?? EXIT.ok;
  } catch (e) {
    const code = isVisorError(e) ? e.code : 'INTERNAL';
    if (json) process.stdout.write(`${JSON.stringify({ error: { code, message: errorMessage(e) } })}\n`);
    else process.stderr.write(`visor: ${errorMessage(e)}\n${HINTS[code as VisorErrorCode] ? `(${HINTS[code as VisorErrorCode]})\n` : ''}`);
    if (process.env.VISOR_DEBUG === '1') console.error(e);
    process.exitCode = isVisorError(e) && USAGE_CODES.has(e.code) ? EXIT.usage : EXIT.failed;
  }
}
