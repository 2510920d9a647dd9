import { ValidateBy, type ValidationOptions } from 'class-validator';
import { DATE_MAX, DATE_MIN, isDateInRange } from '@modelsmith/http';

export { INT4_MAX } from '@modelsmith/http';

const asDate = (value: unknown): Date | undefined =>
  value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;

/** A date (or ISO 8601 string) the database can store and compare: 1970-01-01 to 9999-12-31. */
export function IsDateInRange(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isDateInRange',
      validator: {
        validate: (value: unknown) => {
          const d = asDate(value);
          return d !== undefined && isDateInRange(d);
        },
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must be a date from ${DATE_MIN.toISOString()} to ${DATE_MAX.toISOString()}`,
      },
    },
    options,
  );
}

/** A date (or ISO 8601 string) later than the moment the request is validated. */
export function IsFutureDate(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isFutureDate',
      validator: {
        validate: (value: unknown) => {
          const d = asDate(value);
          return d !== undefined && d.getTime() > Date.now();
        },
        defaultMessage: (args) => `${args?.property ?? 'value'} must be in the future`,
      },
    },
    options,
  );
}
