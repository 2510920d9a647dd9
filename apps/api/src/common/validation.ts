import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { findNulls, findUnsafeStrings, isUuid, ProblemError, type UnsafeField } from '@modelsmith/http';
import { isFreeText } from './free-text';

type FieldError = UnsafeField;

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, messages: Object.values(e.constraints) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** At most this many field errors are listed; field names and messages are cut to these lengths. */
export const MAX_LISTED_FIELDS = 20;
const MAX_FIELD_CHARS = 120;
const MAX_MESSAGE_CHARS = 300;

/** A name or message the client wrote (a member name can be 30,000 characters), cut so that a problem never echoes it whole. */
function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

/**
 * The problem for failed fields, bounded: a request with huge or countless unknown members would
 * otherwise get back a problem larger than itself (each name twice, in `detail` and `errors`).
 */
export function validationFailed(fields: FieldError[]): ProblemError {
  const listed = fields.slice(0, MAX_LISTED_FIELDS).map((f) => ({
    field: cut(f.field, MAX_FIELD_CHARS),
    messages: f.messages.slice(0, 5).map((m) => cut(m, MAX_MESSAGE_CHARS)),
  }));
  const more = fields.length - listed.length;
  return new ProblemError({
    status: 400,
    code: 'VALIDATION_FAILED',
    title: 'Request validation failed',
    detail:
      listed.map((f) => `${f.field}: ${f.messages.join(', ')}`).join('; ') +
      (more > 0 ? `; and ${more} more field(s)` : ''),
    extensions: { errors: listed, ...(more > 0 ? { moreErrors: more } : {}) },
  });
}

/** Path parameters that name a row: `:id`, `:versionId`, `:uploadId`. Every id the platform issues is a UUID. */
const isIdParam = (metadata: ArgumentMetadata) =>
  metadata.type === 'param' &&
  typeof metadata.data === 'string' &&
  (metadata.data === 'id' || metadata.data.endsWith('Id'));

/**
 * The API's one validation layer, applied to every body, query and path parameter:
 * - class-validator on the DTO (whitelisted, unknown fields refused), failures as VALIDATION_FAILED
 *   problems naming each field;
 * - then every string in the validated value (and every member name) is checked for control
 *   characters and unpaired surrogates, which Postgres cannot store or which no name, id or option
 *   has a use for; only fields marked @FreeText() may carry tab, line feed and carriage return;
 * - a JSON `null` anywhere in a body is refused, naming the member (no field gives it a meaning);
 * - an id path parameter that is not a UUID names no resource: 404, without asking the database.
 */
export class PlatformValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => validationFailed(flatten(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'custom') return value;
    const root = typeof metadata.data === 'string' ? metadata.data : '';
    if (isIdParam(metadata)) {
      if (!isUuid(value))
        throw new ProblemError({
          status: 404,
          code: 'NOT_FOUND',
          title: 'Not found',
          detail: `no resource has this ${root} (ids are UUIDs)`,
        });
      return value;
    }
    // Unsafe strings first: a NUL must never reach a validator or transformer that echoes or stores it.
    const unsafe = findUnsafeStrings(
      value,
      root,
      (path, key) => path === key && isFreeText(metadata.metatype, key),
    );
    // A JSON null passes @IsOptional() as if absent, then reaches the code as null (a 500 from Prisma): refused.
    const nulls = metadata.type === 'body' ? findNulls(value, root) : [];
    if (unsafe.length || nulls.length) throw validationFailed([...unsafe, ...nulls]);
    return super.transform(value, metadata);
  }
}

/** class-validator pipe whose failures are VALIDATION_FAILED problems naming each offending field. */
export function createValidationPipe(): ValidationPipe {
  return new PlatformValidationPipe();
}
