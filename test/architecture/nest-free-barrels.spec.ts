import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { modulesLoadedBy, nestModules } from '../support/loaded-modules';

const root = join(__dirname, '..', '..');
/** Every lib, found on disk so that a new one is checked too: its barrel and its Nest subpath, if any. */
const libs = readdirSync(join(root, 'libs'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(root, 'libs', entry.name, 'src', 'index.ts')))
  .map((entry) => ({
    name: entry.name,
    hasNest: existsSync(join(root, 'libs', entry.name, 'src', 'nest', 'index.ts')),
  }));

// A plain-TypeScript consumer (a script, the CLI, a spec) imports `@modelsmith/<lib>` without paying
// for Nest; the Nest modules, providers and tokens are on `@modelsmith/<lib>/nest`.
describe('the libs’ main barrels', () => {
  it('are all checked (the probe found the libs)', () => {
    expect(libs.map((lib) => lib.name)).toEqual(
      expect.arrayContaining(['config', 'db', 'http', 'jobs', 'storage']),
    );
    expect(libs.filter((lib) => lib.hasNest).map((lib) => lib.name)).toEqual(
      expect.arrayContaining(['config', 'db', 'http', 'jobs', 'storage']),
    );
  });

  it.each(libs.map((lib) => lib.name))('@modelsmith/%s loads no Nest module', async (name) => {
    const loaded = await modulesLoadedBy(`libs/${name}/src/index.ts`);
    expect(loaded).toContain(join(root, 'libs', name, 'src', 'index.ts'));
    expect(nestModules(loaded)).toEqual([]);
  });

  // The probe can see Nest: each subpath that holds the Nest pieces loads it.
  it.each(libs.filter((lib) => lib.hasNest).map((lib) => lib.name))(
    '@modelsmith/%s/nest loads Nest',
    async (name) => {
      const loaded = await modulesLoadedBy(`libs/${name}/src/nest/index.ts`);
      expect(nestModules(loaded).some((file) => file.includes('/node_modules/@nestjs/common/'))).toBe(true);
    },
  );
});
