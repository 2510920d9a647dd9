import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { findUnsafeStrings, isUuid, ProblemError, type UnsafeField } from '@modelsmith/http';
import { isFreeText } from './free-text';

type FieldError = UnsafeField;

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, messages: Object.values(e.constraints) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

const validationFailed = (fields: FieldError[]) =>
  new ProblemError({
    status: 400,
    code: 'VALIDATION_FAILED',
    title: 'Request validation failed',
    detail: fields.map((f) => `${f.field}: ${f.messages.join(', ')}`).join('; '),
    extensions: { errors: fields },
  });

/** Path parameters that name a row: `:id`, `:versionId`, `:uploadId`. Every id the platform issues is a UUID. */
const isIdParam = (metadata: ArgumentMetadata) => metadata.type === 'param' && typeof metadata.data === 'string' && (metadata.data === 'id' || metadata.data.endsWith('Id'));

/**
 * The API's one validation layer, applied to every body, query and path parameter:
 * - class-validator on the DTO (whitelisted, unknown fields refused), failures as VALIDATION_FAILED
 *   problems naming each field;
 * - then every string in the validated value (and every member name) is checked for control
 *   characters and unpaired surrogates, which Postgres cannot store or which no name, id or option
 *   has a use for; only fields marked @FreeText() may carry tab, line feed and carriage return;
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
      if (!isUuid(value)) throw new ProblemError({ status: 404, code: 'NOT_FOUND', title: 'Not found', detail: `no resource has this ${root} (ids are UUIDs)` });
      return value;
    }
    // Unsafe strings first: a NUL must never reach a validator or transformer that echoes or stores it.
    const unsafe = findUnsafeStrings(value, root, (path, key) => path === key && isFreeText(metadata.metatype, key));
    if (unsafe.length) throw validationFailed(unsafe);
    return super.transform(value, metadata);
  }
}

/** class-validator pipe whose failures are VALIDATION_FAILED problems naming each offending field. */
export function createValidationPipe(): ValidationPipe {
  return new PlatformValidationPipe();
}
