import { sanitizeLabel } from './label';

describe('sanitizeLabel', () => {
  it.each([
    ['cat', 'cat', false],
    ['  dog ', 'dog', true],
    ['猫', '猫', false],
    ['cafe\u0301', 'café', true],
    ['a/b', 'a_b', true],
    ['a\\b:c*d?', 'a_b_c_d_', true],
    ['..', '__', true],
    ['tab\there', 'tab_here', true],
    ['', '', false],
  ])('%j -> %j', (raw, label, changed) => {
    expect(sanitizeLabel(raw)).toEqual({ label, changed });
  });

  it('caps the length at 128 characters without splitting surrogate pairs', () => {
    const { label } = sanitizeLabel('😀'.repeat(200));
    expect(Array.from(label)).toHaveLength(128);
  });
});
