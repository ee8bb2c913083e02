import { VisorError, errorMessage } from '../errors.js';

/**
 * A `where` LanceDB refused, with its reason as a user can act on it. LanceDB's message repeats
 * the reason in a chain of "Caused by:" and names Rust source files and internal columns
 * (`_rowid`…): the innermost cause, without those, is what the user needs (and what the HTTP API
 * may show: it never exposes internals).
 */
export function filterError(where: string, e: unknown): VisorError {
  const causes = errorMessage(e).split('\n')[0]!.split(/\s*Caused by:\s*/);
  let reason = causes[causes.length - 1]!
    .replace(/,\s*\/\S+\.rs:\d+:\d+/g, '')
    .replace(/^(lance error: )?Invalid user input: /, '')
    .trim();
  const syntax = /^Error parsing statement: .*\(sql parser error: (.*)\)$/.exec(reason);
  if (syntax) reason = `syntax error: ${syntax[1]}`;
  reason = reason.replace(/(Valid fields are )(.*?)\.?$/, (_, lead: string, list: string) => {
    const fields = list.split(/,\s*/).filter((f) => f && !f.startsWith('_'));
    return `${lead}${fields.join(', ')}`;
  });
  return new VisorError('FILTER_INVALID', `invalid filter ${JSON.stringify(where)}: ${reason}`, { cause: e });
}
