import { configSchema } from '@modelsmith/config';
import { readText } from './compose-file';

describe('docs/deployment.md configuration table', () => {
  it('lists exactly the settings of configSchema', () => {
    const text = readText('docs/deployment.md');
    const section = text.slice(text.indexOf('## Configuration'));
    const documented = [...section.matchAll(/^\|\s*`([A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.keys(configSchema.shape).sort());
  });
});
