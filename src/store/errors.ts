import { VisorError } from '../errors.js';

/** The store's user-facing errors, worded the same by every implementation of the port. */

/** A filter the store cannot run, with the reason in the user's terms. */
export function filterInvalid(where: string, reason: string, cause?: unknown): VisorError {
  return new VisorError('FILTER_INVALID', `invalid filter ${JSON.stringify(where)}: ${reason}`, cause === undefined ? undefined : { cause });
}

/** The reason given for a filter naming a column the index lacks. */
export function unknownColumn(name: string, catalogueColumns: readonly string[]): string {
  return `no column named ${name}; catalogue columns: ${catalogueColumns.length ? catalogueColumns.join(', ') : 'none (index a catalogue to filter by its fields)'}`;
}

/** Item ids are content hashes in hex. */
const HEX_ID = /^[0-9a-f]{8,64}$/;

/** Refuses anything but item ids (stores splice them into SQL), as QUERY_INVALID. */
export function checkItemIds(ids: readonly string[]): void {
  for (const id of ids) if (!HEX_ID.test(id)) throw new VisorError('QUERY_INVALID', `not an item id: ${JSON.stringify(id)}`);
}

/** scoreAll('probs') on an index whose image model has no classifier (numClasses 0). */
export function noProbabilities(where: string, imageModel: string): VisorError {
  return new VisorError(
    'QUERY_INVALID',
    `index at ${where} holds no class probabilities (its image model ${imageModel} has no classifier); score against 'vector' instead`,
  );
}

/** A query vector of the wrong length. */
export function wrongDimension(got: number, holds: number, space?: string): VisorError {
  return new VisorError(
    'QUERY_INVALID',
    space === undefined ? `query vector has ${got} dims, index holds ${holds}` : `query vector has ${got} dims, space ${space} holds ${holds}`,
  );
}

/** Space names are model ids, and become table names: lower-case letters, digits, '.', '-', '_'. */
export const SPACE_NAME = /^[a-z0-9][a-z0-9._-]*$/;

/** Refuses a space name that is not a model id, as QUERY_INVALID. */
export function checkSpaceName(name: string): void {
  if (!SPACE_NAME.test(name))
    throw new VisorError('QUERY_INVALID', `embedding space name ${JSON.stringify(name)} must be lower-case letters, digits, '.', '-' or '_'`);
}

/** A space the index does not hold. */
export function noSuchSpace(where: string, name: string): VisorError {
  return new VisorError('NOT_FOUND', `index at ${where} has no embedding space ${JSON.stringify(name)}`);
}

/** A space asked to hold vectors of another dimension than it does. */
export function spaceDimensionMismatch(where: string, name: string, holds: number, given: number): VisorError {
  return new VisorError('INDEX_INCOMPATIBLE', `space ${name} of ${where} holds ${holds}-d vectors; the model gives ${given}-d`);
}
