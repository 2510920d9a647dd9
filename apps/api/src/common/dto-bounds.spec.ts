import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { getMetadataStorage } from 'class-validator';

// The package index also loads its Nest queue module (ESM-only @nestjs/bullmq); the DTOs need only the accelerator names.
jest.mock('@modelsmith/jobs', () => jest.requireActual<object>('@modelsmith/jobs/routing'));

/**
 * Every DTO of the API, found on disk (dto/ folders, *.dto.ts, the shared pagination query), so a
 * new one cannot slip past this spec.
 */
function dtoFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return dtoFiles(path);
    const isDto =
      /\.dto\.ts$/.test(e.name) ||
      (dir.endsWith('/dto') && e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts')) ||
      path.endsWith('common/pagination.ts');
    return isDto ? [path] : [];
  });
}

type Ctor = new (...args: never[]) => unknown;

function dtoClasses(): Ctor[] {
  const storage = getMetadataStorage();
  return (
    dtoFiles(join(__dirname, '..'))
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the files are found at run time
      .flatMap((f) => Object.values(require(f) as Record<string, unknown>))
      .filter(
        (v): v is Ctor =>
          typeof v === 'function' && storage.getTargetValidationMetadatas(v, '', true, false).length > 0,
      )
  );
}

/** Constraint names per property of a DTO (inherited ones included). */
function constraints(dto: Ctor): Map<string, Set<string>> {
  const byProperty = new Map<string, Set<string>>();
  for (const m of getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false)) {
    const names = byProperty.get(m.propertyName) ?? new Set<string>();
    names.add(m.name ?? m.type);
    byProperty.set(m.propertyName, names);
  }
  return byProperty;
}

describe('every number and date a client sends is bounded', () => {
  const classes = dtoClasses();

  it('finds the DTOs', () => {
    expect(classes.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'CreateApiKeyDto',
        'ListJobsQueryDto',
        'JobEventsQueryDto',
        'CreateTenantDto',
        'PageQueryDto',
        'TrainingOptionsDto',
        'CreateUploadDto',
      ]),
    );
  });

  it('numbers have a minimum and a maximum; dates a range; strings a maximum length or a fixed set', () => {
    const unbounded: string[] = [];
    for (const dto of classes) {
      for (const [property, names] of constraints(dto)) {
        const where = `${dto.name}.${property}`;
        if ((names.has('isInt') || names.has('isNumber')) && !(names.has('min') && names.has('max')))
          unbounded.push(`${where}: number without min and max`);
        if ((names.has('isDate') || names.has('isDateString')) && !names.has('isDateInRange'))
          unbounded.push(`${where}: date without @IsDateInRange`);
        if (names.has('isString') && !names.has('maxLength'))
          unbounded.push(`${where}: string without @MaxLength`);
      }
    }
    expect(unbounded).toEqual([]);
  });
});
