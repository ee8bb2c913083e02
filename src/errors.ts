/**
 * Every error Visor raises on purpose carries a stable code, so the CLI, the HTTP API and
 * scripts can tell "your input is wrong" from "the model is missing" without parsing text.
 */
export type VisorErrorCode =
  | 'MODEL_NOT_FOUND'
  | 'MODEL_UNKNOWN'
  | 'MODEL_CHECKSUM_MISMATCH'
  | 'MODEL_SIZE_MISMATCH'
  | 'MODEL_INVALID'
  | 'DOWNLOAD_FAILED'
  | 'DOWNLOAD_INTERRUPTED'
  | 'OFFLINE'
  | 'IMAGE_UNREADABLE'
  | 'IMAGE_INVALID'
  | 'CATALOGUE_INVALID'
  | 'DATASET_NOT_FOUND'
  | 'INDEX_EMPTY'
  | 'INDEX_INCOMPATIBLE'
  | 'INDEX_LOCKED'
  | 'FILTER_INVALID'
  | 'QUERY_INVALID'
  | 'NOT_FOUND'
  | 'INTERRUPTED'
  | 'PORT_IN_USE'
  /** The object store named by --db s3://… cannot be used as configured: endpoint, credentials, bucket, or a damaged collection manifest. */
  | 'STORE_UNAVAILABLE'
  /** The NATS server named by --queue (or VISOR_QUEUE) cannot be reached, or has no JetStream. */
  | 'QUEUE_UNAVAILABLE';

export class VisorError extends Error {
  readonly code: VisorErrorCode;

  constructor(code: VisorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VisorError';
    this.code = code;
  }
}

export function isVisorError(e: unknown, code?: VisorErrorCode): e is VisorError {
  return e instanceof VisorError && (code === undefined || e.code === code);
}

/** A message fit for a user from anything thrown (Error, string, object). */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
