/**
 * The parts of a Hugging Face `tokenizer.json` that a CLIP-style tokenizer needs, read and
 * checked. CLIP's tokenizer is byte-level BPE whose words end in `</w>`; its text rules
 * (NFC, whitespace collapsed, lower case, CLIP's word pattern) are fixed in code, so a file
 * that declares something else is refused rather than tokenised wrongly.
 */

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
}

/** What the BPE tokenizer is built from. */
export interface BpeTokenizerData {
  vocab: Map<string, number>;
  /** Merge rules in priority order (lower index merges first). */
  merges: Array<[string, string]>;
  endOfWordSuffix: string;
  unkToken: string | null;
  addedTokens: AddedToken[];
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class TokenizerFormatError extends Error {
  override name = 'TokenizerFormatError';
}

/** Every node type named anywhere in a normalizer or pre-tokenizer description. */
function nodeTypes(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => nodeTypes(n, out));
  else if (isObject(node)) {
    if (typeof node.type === 'string') out.push(node.type);
    Object.values(node).forEach((v) => nodeTypes(v, out));
  }
  return out;
}

/**
 * Reads a parsed tokenizer.json. Merges may be written as "a b" strings (tokenizers < 0.20)
 * or as [a, b] pairs (newer files); both mean the same rules.
 */
export function readBpeTokenizer(json: unknown): BpeTokenizerData {
  if (!isObject(json) || !isObject(json.model)) throw new TokenizerFormatError('tokenizer.json has no "model" object');
  const model = json.model;
  if (model.type !== 'BPE') {
    throw new TokenizerFormatError(`tokenizer model type ${JSON.stringify(model.type)} is not supported (only CLIP-style byte-level BPE)`);
  }
  if (model.end_of_word_suffix !== '</w>') {
    throw new TokenizerFormatError('tokenizer is BPE but not CLIP-style (its words do not end in "</w>")');
  }
  // Present in full files; absent from Visor's canonical copies, which only keep CLIP tokenizers.
  if (json.normalizer != null && !nodeTypes(json.normalizer).includes('Lowercase')) {
    throw new TokenizerFormatError('tokenizer does not lower-case its input, so it is not a CLIP tokenizer');
  }
  if (!isObject(model.vocab)) throw new TokenizerFormatError('tokenizer.json model has no vocab');
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(model.vocab)) {
    if (typeof id !== 'number' || !Number.isInteger(id)) throw new TokenizerFormatError(`vocab entry ${JSON.stringify(token)} has no integer id`);
    vocab.set(token, id);
  }
  if (!Array.isArray(model.merges)) throw new TokenizerFormatError('tokenizer.json model has no merges');
  const merges = model.merges.map((m, i): [string, string] => {
    if (typeof m === 'string') {
      const parts = m.split(' ');
      if (parts.length === 2) return [parts[0]!, parts[1]!];
    } else if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') {
      return [m[0], m[1]];
    }
    throw new TokenizerFormatError(`merge rule ${i} is malformed: ${JSON.stringify(m)}`);
  });
  const added = Array.isArray(json.added_tokens) ? json.added_tokens : [];
  const addedTokens = added.map((t, i): AddedToken => {
    if (!isObject(t) || typeof t.id !== 'number' || typeof t.content !== 'string') {
      throw new TokenizerFormatError(`added token ${i} is malformed`);
    }
    return { id: t.id, content: t.content, special: t.special === true };
  });
  const unkToken = typeof model.unk_token === 'string' ? model.unk_token : null;
  return { vocab, merges, endOfWordSuffix: '</w>', unkToken, addedTokens };
}

/**
 * The tokenizer as Visor keeps it: only what tokenisation depends on, in a fixed layout
 * (vocab sorted by id, merges as pairs, no whitespace). Upstream copies of the same tokenizer differ in formatting
 * and in fields nothing reads (tokenizers' version, decoder settings), so the registry pins
 * the sha256 of this form, which the same tokenizer always produces byte for byte.
 */
export function canonicalTokenizerJson(fetched: Buffer): Buffer {
  const data = readBpeTokenizer(JSON.parse(fetched.toString('utf8')));
  const vocab = [...data.vocab.entries()].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
  const canonical = {
    added_tokens: [...data.addedTokens].sort((a, b) => a.id - b.id).map((t) => ({ id: t.id, content: t.content, special: t.special })),
    model: {
      type: 'BPE',
      unk_token: data.unkToken,
      end_of_word_suffix: data.endOfWordSuffix,
      vocab: Object.fromEntries(vocab),
      merges: data.merges,
    },
  };
  return Buffer.from(`${JSON.stringify(canonical)}\n`, 'utf8');
}
