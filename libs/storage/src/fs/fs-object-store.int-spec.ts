import { mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { StorageError } from '../errors';
import { FsObjectStore } from './fs-object-store';

// What only the filesystem driver has (its shared behaviour is in test/storage/object-store.conformance.int-spec.ts).
describe('FsObjectStore on a real directory', () => {
  let dir: string;
  let outside: string;
  let store: FsObjectStore;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'modelsmith-fs-'));
    outside = await mkdtemp(join(tmpdir(), 'modelsmith-outside-'));
    store = new FsObjectStore({ directory: dir, maxPartBytes: 1024 });
    await store.ensureReady();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  async function code(p: Promise<unknown>): Promise<string> {
    const e: unknown = await p.then(
      () => null,
      (err: unknown) => err,
    );
    return e instanceof StorageError ? e.code : String(e);
  }

  it('lays keys out as escaped segments, data files ending in !o, nothing left in tmp', async () => {
    await store.putBytes('tenants/t1/a!b%c', Buffer.from('x'));
    expect(await readdir(join(dir, 'objects', 'tenants', 't1'))).toEqual(['a%21b%25c!o']);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('never follows a symbolic link out of the store, for reads, writes, deletes or listings', async () => {
    await writeFile(join(outside, 'secret!o'), 'outside bytes');
    await mkdir(join(outside, 'sub'));
    await symlink(outside, join(dir, 'objects', 'evil'));
    await symlink(join(outside, 'secret!o'), join(dir, 'objects', 'link!o'));
    expect(await code(store.getBytes('evil/secret'))).toBe('INVALID_KEY');
    expect(await code(store.getBytes('link'))).toBe('OBJECT_NOT_FOUND');
    expect(await store.stat('link')).toBeNull();
    expect(await code(store.putBytes('evil/sub/new', Buffer.from('x')))).toBe('INVALID_KEY');
    expect(await code(store.delete('evil/secret'))).toBe('INVALID_KEY');
    const listed: string[] = [];
    for await (const o of store.list('')) listed.push(o.key);
    expect(listed.some((k) => k.startsWith('evil') || k === 'link')).toBe(false);
    expect(await readdir(join(outside, 'sub'))).toEqual([]);
    expect(await readFile(join(outside, 'secret!o'), 'utf8')).toBe('outside bytes');
  });

  it('a part above the limit is ENTITY_TOO_LARGE and leaves nothing; unknown or malformed upload ids are UPLOAD_NOT_FOUND', async () => {
    const id = await store.createMultipartUpload('u/a');
    expect(await code(store.uploadPart('u/a', id, 1, Readable.from([Buffer.alloc(1025)])))).toBe(
      'ENTITY_TOO_LARGE',
    );
    expect(await code(store.uploadPart('u/a', id, 1, Readable.from([Buffer.alloc(600)]), 500))).toBe(
      'ENTITY_TOO_LARGE',
    );
    expect(await store.listParts('u/a', id)).toEqual([]);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    for (const bad of ['../../objects', 'x'.repeat(32), '0'.repeat(31), `${id}/..`])
      expect(await code(store.listParts('u/a', bad))).toBe('UPLOAD_NOT_FOUND');
    expect(await code(store.uploadPart('u/b', id, 1, Readable.from([Buffer.alloc(1)])))).toBe(
      'UPLOAD_NOT_FOUND',
    );
  });

  it("ensureReady removes a crashed writer's stale temporary files and keeps fresh ones", async () => {
    await writeFile(join(dir, 'tmp', 'old.tmp'), 'x');
    await writeFile(join(dir, 'tmp', 'fresh.tmp'), 'x');
    const twoDaysAgo = new Date(Date.now() - 48 * 3600 * 1000);
    await utimes(join(dir, 'tmp', 'old.tmp'), twoDaysAgo, twoDaysAgo);
    await store.ensureReady();
    expect(await readdir(join(dir, 'tmp'))).toEqual(['fresh.tmp']);
  });

  it('refuses key segments too long for a file name', async () => {
    expect(await code(store.putBytes(`a/${'x'.repeat(201)}`, Buffer.from('x')))).toBe('INVALID_KEY');
  });

  it('ping fails as STORAGE_UNAVAILABLE when the directory is gone; presigning needs a secret', async () => {
    const gone = new FsObjectStore({ directory: join(outside, 'never-created') });
    expect(await code(gone.ping())).toBe('STORAGE_UNAVAILABLE');
    expect(await code(store.presignedGet('a', 60))).toBe('STORAGE_CONFIG_INVALID');
  });

  it('a store read by another instance (another process) sees the same objects', async () => {
    await store.putBytes('shared/k', Buffer.from('from one'), 'text/plain');
    const other = new FsObjectStore({ directory: dir });
    expect((await other.getBytes('shared/k')).toString()).toBe('from one');
    expect(await other.stat('shared/k')).toMatchObject({ contentType: 'text/plain', size: 8 });
  });
});
