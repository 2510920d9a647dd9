import { slugify } from './create-tenant';

describe('slugify', () => {
  it('makes URL-safe slugs, keeping letters from accented names', () => {
    expect(slugify('Acme Corp.')).toBe('acme-corp');
    expect(slugify('  Société Générale ')).toBe('societe-generale');
    expect(slugify('***')).toBe('tenant');
    expect(slugify('x'.repeat(100))).toHaveLength(48);
  });
});
