import type { FastifyRequest } from 'fastify';
import { errorMessage } from '../errors.js';
import { HttpError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Uploaded files by form field, read into memory by readUploads (null when none were sent). */
    uploads: Record<string, Upload[]> | null;
  }
}

export interface Upload {
  bytes: Buffer;
  /** The name the client gave the file (untrusted: never used as a path as it is). */
  filename: string;
}

export interface UploadSpec {
  /** Form fields that may carry files. */
  fileFields: readonly string[];
  /** A form field holding a JSON object that becomes the request body (validated by the route's schema). */
  jsonField?: string;
  /** Whether a request without files is an error (adding images) or a plain JSON request (search). */
  required: boolean;
  /** Largest upload per request, all files together. */
  maxBytes: number;
  maxFiles: number;
}

const MB = 2 ** 20;
/** The JSON query part of an upload: far more than any valid SearchRequest needs. */
const MAX_FIELD_BYTES = 64 * 1024;
const mb = (n: number) => `${(n / MB).toFixed(n % MB === 0 ? 0 : 1)} MB`;

/** Declared types that may hold an image; the decoder has the last word on the bytes. */
function acceptedType(mime: string): boolean {
  return mime === '' || mime === 'application/octet-stream' || /^image\//i.test(mime);
}

/** Refuses, from its Content-Length, an upload too large to read at all (before any byte of it is read). */
export function rejectOversized(maxBytes: number) {
  // Form boundaries and the JSON query part come on top of the files themselves.
  const allowance = maxBytes + 256 * 1024;
  return async (request: FastifyRequest): Promise<void> => {
    const length = Number(request.headers['content-length'] ?? 0);
    if (length > allowance) {
      throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `upload too large: ${mb(length)}, the limit is ${mb(maxBytes)} per request`);
    }
  };
}

/**
 * A preValidation hook reading a multipart/form-data upload: files into memory (capped in size
 * and number as they stream in), the JSON field into request.body, so that the route's schema
 * validates the query exactly as it would a JSON request. Unknown fields are refused rather
 * than ignored: a misspelt field should not silently change the query.
 */
export function readUploads(spec: UploadSpec) {
  return async (request: FastifyRequest): Promise<void> => {
    if (!request.isMultipart()) {
      if (spec.required)
        throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `send the images as a multipart/form-data upload (file fields: ${spec.fileFields.join(', ')})`);
      return;
    }
    const files: Record<string, Upload[]> = {};
    let total = 0;
    let count = 0;
    let body: unknown = {};
    try {
      const parts = request.parts({
        limits: { fileSize: spec.maxBytes, files: spec.maxFiles, fields: spec.jsonField ? 1 : 0, parts: spec.maxFiles + 1, fieldSize: MAX_FIELD_BYTES },
      });
      for await (const part of parts) {
        if (part.type === 'file') {
          if (!spec.fileFields.includes(part.fieldname)) {
            throw new HttpError(400, 'QUERY_INVALID', `unknown file field ${JSON.stringify(part.fieldname)}: use ${spec.fileFields.join(' or ')}`);
          }
          if (!acceptedType(part.mimetype)) {
            throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `${part.filename || part.fieldname} is ${part.mimetype}, not an image`);
          }
          const bytes = await part.toBuffer();
          total += bytes.length;
          if (total > spec.maxBytes) throw tooLarge(spec.maxBytes);
          if (bytes.length === 0) throw new HttpError(400, 'IMAGE_INVALID', `${part.filename || part.fieldname} is empty`);
          (files[part.fieldname] ??= []).push({ bytes, filename: part.filename });
          count++;
        } else if (part.fieldname === spec.jsonField) {
          if (part.valueTruncated) throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `the form field "${part.fieldname}" is over ${MAX_FIELD_BYTES / 1024} KB`);
          body = parseJsonField(part.fieldname, part.value);
        } else {
          throw new HttpError(
            400,
            'QUERY_INVALID',
            `unknown form field ${JSON.stringify(part.fieldname)}${spec.jsonField ? `: the query goes in the field "${spec.jsonField}" as JSON` : ''}`,
          );
        }
      }
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge(spec.maxBytes);
      if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT') {
        throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `too many files in one request: at most ${spec.maxFiles}`);
      }
      // The form parser's own errors (no boundary, a body that ends mid-part) carry no code or
      // status: all that is read here is the client's request, so they are its mistakes.
      if (!(e instanceof HttpError) && code === undefined && (e as { statusCode?: number }).statusCode === undefined) {
        throw new HttpError(400, 'BAD_REQUEST', `broken multipart/form-data upload: ${errorMessage(e)}`);
      }
      throw e;
    }
    if (spec.required && count === 0) throw new HttpError(400, 'QUERY_INVALID', `no image in the upload: send files in the field ${spec.fileFields[0]}`);
    request.body = body;
    request.uploads = files;
  };
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, 'PAYLOAD_TOO_LARGE', `upload too large: the limit is ${mb(maxBytes)} per request`);
}

function parseJsonField(name: string, value: unknown): unknown {
  if (typeof value !== 'string') return value; // sent with Content-Type application/json: already parsed
  try {
    return JSON.parse(value);
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', `malformed JSON in the form field "${name}"`);
  }
}
