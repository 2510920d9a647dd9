import 'reflect-metadata';

const FREE_TEXT = Symbol('modelsmith:free-text');

/**
 * Marks a DTO string property as multi-line free text: it may carry tab, line feed and carriage
 * return. Every other string a client sends is refused if it holds any control character.
 */
export function FreeText(): PropertyDecorator {
  return (target, key) => Reflect.defineMetadata(FREE_TEXT, true, target, key);
}

/** Whether the top-level member `key` of the route's DTO (`metatype`) is free text. */
export function isFreeText(metatype: unknown, key: string): boolean {
  if (typeof metatype !== 'function') return false;
  return Reflect.getMetadata(FREE_TEXT, (metatype as { prototype: object }).prototype, key) === true;
}
