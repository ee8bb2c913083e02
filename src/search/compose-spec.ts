import type { ComposeModel } from '../compose/model.js';

/** A composed query: the reference images changed as the text says ("with a red ball"). */
export interface ComposeSpec {
  /** How the target differs from the reference ("with a red ball"). */
  text: string;
  /** Weight of the text against the reference (zero-shot only; default 1). */
  weight?: number;
  /** A trained composition model, or the path of a `.compose` file. */
  model?: string | ComposeModel;
}
