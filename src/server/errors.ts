import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { isVisorError, type VisorErrorCode } from '../errors.js';

/** The one error shape every route answers with, the same as the CLI's `--json` errors. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** An error raised at the HTTP edge (auth, media types, limits), carrying its status. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** What each Visor error means to an HTTP client: its input was wrong (4xx) or the server failed (5xx). */
const STATUS_OF: Record<VisorErrorCode, number> = {
  QUERY_INVALID: 400,
  FILTER_INVALID: 400,
  IMAGE_INVALID: 400,
  IMAGE_UNREADABLE: 400,
  CATALOGUE_INVALID: 400,
  NOT_FOUND: 404,
  INDEX_LOCKED: 409,
  INDEX_EMPTY: 503,
  INDEX_INCOMPATIBLE: 503,
  DATASET_NOT_FOUND: 404,
  MODEL_NOT_FOUND: 503,
  MODEL_UNKNOWN: 503,
  MODEL_CHECKSUM_MISMATCH: 503,
  MODEL_SIZE_MISMATCH: 503,
  MODEL_INVALID: 503,
  DOWNLOAD_FAILED: 503,
  DOWNLOAD_INTERRUPTED: 503,
  OFFLINE: 503,
  INTERRUPTED: 503,
  PORT_IN_USE: 503,
  STORE_UNAVAILABLE: 503,
  QUEUE_UNAVAILABLE: 503,
};

/** Fastify's and its plugins' own errors, renamed to codes a client can act on. */
const FASTIFY_CODES: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: 'request body too large: JSON queries are small; send images as multipart/form-data uploads',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'BAD_REQUEST' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'BAD_REQUEST', message: 'the request body is empty: send a JSON object' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'BAD_REQUEST', message: 'malformed JSON in the request body' },
  FST_INVALID_MULTIPART_CONTENT_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'expected a multipart/form-data upload' },
  FST_REQ_FILE_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  FST_FILES_LIMIT: { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'too many files in one request' },
  FST_PARTS_LIMIT: { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'too many parts in one request' },
  FST_FIELDS_LIMIT: { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'too many fields in one request' },
  FST_PROTO_VIOLATION: { status: 400, code: 'BAD_REQUEST' },
  FST_INVALID_JSON_FIELD_ERROR: { status: 400, code: 'BAD_REQUEST', message: 'a form field declared as application/json is not valid JSON' },
  FST_MP_PREMATURE_CLOSE: { status: 400, code: 'BAD_REQUEST', message: 'the upload ended before the form was complete' },
  // Raised before routing (frameworkErrors): "%zz" or "%c0%ae" in the path, a path segment over 100 characters.
  FST_ERR_BAD_URL: { status: 400, code: 'BAD_REQUEST', message: 'the URL is not valid: a "%" must start a UTF-8 escape such as %2F' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 400, code: 'BAD_REQUEST', message: 'a path segment of the URL is too long' },
};

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/** A schema failure in words: which field, what was wrong, and for ids what an id looks like. */
function validationMessage(e: FastifyError): string {
  const v = e.validation?.[0];
  if (!v) return e.message;
  const where = `${e.validationContext ?? 'request'}${v.instancePath.replace(/\//g, '.')}`;
  if (v.keyword === 'pattern' && /(^|\/)(id|like|unlike|imageIds)(\/\d+)?$/.test(v.instancePath)) {
    return `${where} is not an item id: ids are content hashes, 8–64 characters 0-9 a-f`;
  }
  if (v.keyword === 'pattern' && v.instancePath === '/space') {
    return `${where} is not an embedding space name: lower-case letters, digits, '.', '-' and '_' (the index's spaces are listed by /api/status)`;
  }
  if (v.keyword === 'additionalProperties') {
    return `${where} has an unknown field ${JSON.stringify((v.params as { additionalProperty?: string }).additionalProperty)}`;
  }
  return `${where} ${v.message ?? 'is invalid'}`;
}

/** Sends `e` as a JSON error with the status it deserves; unexpected failures are logged, not shown. */
export function sendError(app: FastifyInstance, e: unknown, reply: FastifyReply): FastifyReply {
  if (e instanceof HttpError) return reply.code(e.statusCode).headers(e.headers).send(errorBody(e.code, e.message));
  if (isVisorError(e)) {
    const status = STATUS_OF[e.code] ?? 500;
    if (status >= 500) app.log.error(e);
    return reply.code(status).send(errorBody(e.code, e.message));
  }
  const fe = e as FastifyError;
  if (fe.validation) return reply.code(400).send(errorBody('QUERY_INVALID', validationMessage(fe)));
  const known = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (known) return reply.code(known.status).send(errorBody(known.code, known.message ?? fe.message));
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status === 429) return reply.code(429).send(errorBody('RATE_LIMITED', fe.message));
  if (status >= 400 && status < 500) return reply.code(status).send(errorBody('BAD_REQUEST', fe.message));
  app.log.error(e);
  return reply.code(500).send(errorBody('INTERNAL', 'internal server error (the server log has the details)'));
}

/**
 * Requests Node's HTTP parser refuses before there is a request to answer (headers over 16 KB,
 * a malformed request line, a body that does not arrive in time): the same JSON error shape as
 * every other answer, written to the socket, which is then closed.
 */
export function clientErrorHandler(e: NodeJS.ErrnoException, socket: Duplex): void {
  if (e.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    e.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'REQUEST_TIMEOUT', 'the request did not arrive in time']
      : e.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'HEADERS_TOO_LARGE', 'the URL and headers are too large']
        : [400, 'BAD_REQUEST', 'malformed HTTP request'];
  const body = JSON.stringify(errorBody(code, message));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(e);
}
