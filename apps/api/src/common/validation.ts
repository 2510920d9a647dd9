import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ProblemError } from '@modelsmith/http';

interface FieldError {
  field: string;
  messages: string[];
}

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, messages: Object.values(e.constraints) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** class-validator pipe whose failures are VALIDATION_FAILED problems naming each offending field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => {
      const fields = flatten(errors);
      return new ProblemError({
        status: 400,
        code: 'VALIDATION_FAILED',
        title: 'Request validation failed',
        detail: fields.map((f) => `${f.field}: ${f.messages.join(', ')}`).join('; '),
        extensions: { errors: fields },
      });
    },
  });
}
