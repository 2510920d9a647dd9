import busboy, { type Busboy, type BusboyConfig, type FieldInfo } from 'busboy';
import type { IncomingMessage } from 'node:http';
import { ProblemError } from '../problem';
import { findUnsafeCharacter, unsafeCharacterMessage } from './control-characters';

/** A multipart body busboy could not parse (no boundary, truncated, broken part headers): 400. */
export function malformedMultipart(e: unknown): ProblemError {
  if (e instanceof ProblemError) return e;
  return new ProblemError({
    status: 400,
    code: 'BAD_REQUEST',
    title: 'Malformed multipart body',
    detail: `the multipart/form-data body could not be read: ${e instanceof Error ? e.message : String(e)}`,
  });
}

const invalidField = (field: string, message: string, title = 'Invalid form field') =>
  new ProblemError({
    status: 400,
    code: 'VALIDATION_FAILED',
    title,
    detail: `${field}: ${message}`,
    extensions: { errors: [{ field, messages: [message] }] },
  });

/** Too many fields or parts in one form: 413 (busboy would otherwise drop the rest silently). */
export const tooManyParts = (what: 'fields' | 'parts' | 'files', limit: number): ProblemError =>
  new ProblemError({
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    title: `Too many form ${what}`,
    detail: `a form may carry at most ${limit} ${what}`,
  });

/**
 * A busboy parser for a multipart/form-data request. Throws a 400 problem when the headers cannot
 * be parsed (no boundary, malformed content type) instead of busboy's plain Error.
 */
export function multipartParser(req: IncomingMessage, limits: NonNullable<BusboyConfig['limits']>): Busboy {
  let parser: Busboy;
  try {
    parser = busboy({ headers: req.headers, limits });
  } catch (e) {
    throw malformedMultipart(e);
  }
  // Busboy calls its 'field'/'file' listeners from inside the request stream's write: an exception
  // there would escape into the stream and end the process. It becomes the parser's 'error' instead,
  // which every caller turns into its answer.
  const emit = parser.emit.bind(parser) as (event: string | symbol, ...args: unknown[]) => boolean;
  parser.emit = ((event: string | symbol, ...args: unknown[]) => {
    if (event === 'error') return emit(event, ...args);
    try {
      return emit(event, ...args);
    } catch (e) {
      return emit('error', e);
    }
  }) as Busboy['emit'];
  return parser;
}

/**
 * Checks one text field of a form: not truncated by busboy's `fieldSize` limit, and no control
 * characters in its name or value. Returns the problem to answer, or null when the field is fine.
 */
export function formFieldProblem(
  name: string | undefined,
  value: string | undefined,
  info: FieldInfo,
  maxBytes: number,
): ProblemError | null {
  // Busboy passes undefined for a part whose Content-Disposition has no (readable) name, whatever its types say.
  if (typeof name !== 'string')
    return invalidField(
      '(field name)',
      'every form field needs a name (Content-Disposition: form-data; name="…")',
    );
  const badName = findUnsafeCharacter(name);
  if (badName) return invalidField('(field name)', unsafeCharacterMessage(badName));
  if (info.nameTruncated || info.valueTruncated) {
    return new ProblemError({
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
      title: 'Form field too large',
      detail: `${name}: form fields are limited to ${maxBytes} bytes`,
    });
  }
  const badValue = findUnsafeCharacter(value ?? '');
  return badValue ? invalidField(name, unsafeCharacterMessage(badValue)) : null;
}

/** The answer to an uploaded file with no bytes: 422, nothing to store or process. */
export function emptyFileProblem(fileName: string): ProblemError {
  return new ProblemError({
    status: 422,
    code: 'UNPROCESSABLE',
    title: 'Empty file',
    detail: `"${fileName}" is empty`,
  });
}

/** Checks the file name a file part declares: no control characters (it is stored and shown). */
export function fileNameProblem(part: string | undefined, fileName: string | undefined): ProblemError | null {
  const bad = findUnsafeCharacter(fileName ?? '');
  return bad
    ? invalidField(
        `${part ?? '(unnamed part)'} (file name)`,
        unsafeCharacterMessage(bad),
        'Invalid file name',
      )
    : null;
}
