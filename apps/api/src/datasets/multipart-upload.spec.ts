import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { ProblemError } from '@modelsmith/http';
import { streamMultipartUpload } from './multipart-upload';

function request(body: Buffer | string, headers: Record<string, string>): IncomingMessage {
  const stream = Readable.from([Buffer.from(body)]) as unknown as IncomingMessage;
  stream.headers = headers;
  return stream;
}

async function form(
  parts: { name: string; file?: string; data: string }[],
): Promise<{ body: Buffer; type: string }> {
  const f = new FormData();
  for (const part of parts) {
    if (part.file !== undefined) f.append(part.name, new Blob([part.data]), part.file);
    else f.append(part.name, part.data);
  }
  const res = new Response(f);
  return { body: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type')! };
}

/** A store that reads the whole file, as the object store does. */
const drain = async (file: Readable) => {
  for await (const chunk of file) void chunk;
};

async function problemOf(p: Promise<unknown>): Promise<ProblemError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ProblemError) return e;
    throw e;
  }
  throw new Error('expected a problem');
}

describe('streamMultipartUpload', () => {
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  beforeAll(() => process.on('uncaughtException', onUncaught));
  afterAll(() => process.off('uncaughtException', onUncaught));
  afterEach(async () => {
    await new Promise((r) => setTimeout(r, 20));
    expect(uncaught).toEqual([]);
  });

  it('streams the file part to the store with the fields before it', async () => {
    const f = await form([
      { name: 'format', data: 'image-folders' },
      { name: 'file', file: 'a.zip', data: 'zipbytes' },
    ]);
    let stored = '';
    const r = await streamMultipartUpload(
      request(f.body, { 'content-type': f.type }),
      1000,
      async (file, meta, fields) => {
        for await (const chunk of file) stored += String(chunk);
        expect(fields).toEqual({ format: 'image-folders' });
        expect(meta.fileName).toBe('a.zip');
      },
    );
    expect(stored).toBe('zipbytes');
    expect(r.file.bytes).toBe(8);
  });

  it('answers a body that ends inside the file part with 400 while the store is reading it', async () => {
    const truncated =
      '--zz\r\nContent-Disposition: form-data; name="file"; filename="a.zip"\r\n\r\nPK\x03\x04';
    const p = await problemOf(
      streamMultipartUpload(
        request(truncated, { 'content-type': 'multipart/form-data; boundary=zz' }),
        1000,
        drain,
      ),
    );
    expect(p).toMatchObject({ status: 400, code: 'BAD_REQUEST', title: 'Malformed multipart body' });
  });

  it('answers a truncated extra file part, a missing boundary and broken part headers with 400', async () => {
    const two =
      '--zz\r\nContent-Disposition: form-data; name="file"; filename="a.zip"\r\n\r\nA\r\n--zz\r\nContent-Disposition: form-data; name="other"; filename="b"\r\n\r\nB';
    expect(
      (
        await problemOf(
          streamMultipartUpload(
            request(two, { 'content-type': 'multipart/form-data; boundary=zz' }),
            1000,
            drain,
          ),
        )
      ).status,
    ).toBe(400);
    expect(
      (
        await problemOf(
          streamMultipartUpload(request('x', { 'content-type': 'multipart/form-data' }), 1000, drain),
        )
      ).status,
    ).toBe(400);
    expect(
      (
        await problemOf(
          streamMultipartUpload(
            request('--zz\r\nno colon here\r\n\r\n', { 'content-type': 'multipart/form-data; boundary=zz' }),
            1000,
            drain,
          ),
        )
      ).status,
    ).toBe(400);
  });

  it('refuses control characters in field values, field names and the file name, naming them', async () => {
    const value = await form([
      { name: 'target', data: 'lab\u0000el' },
      { name: 'file', file: 'a.csv', data: 'x' },
    ]);
    expect(
      await problemOf(
        streamMultipartUpload(request(value.body, { 'content-type': value.type }), 1000, drain),
      ),
    ).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      extensions: { errors: [{ field: 'target' }] },
    });
    const fileName =
      '--zz\r\nContent-Disposition: form-data; name="file"; filename*=UTF-8\'\'a%00b.zip\r\n\r\nx\r\n--zz--\r\n';
    expect(
      await problemOf(
        streamMultipartUpload(
          request(fileName, { 'content-type': 'multipart/form-data; boundary=zz' }),
          1000,
          drain,
        ),
      ),
    ).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
    });
  });

  it('refuses 3,000 fields and an over-long field with 413 instead of dropping them silently', async () => {
    const many = await form([
      ...Array.from({ length: 3000 }, (_, i) => ({ name: `f${i}`, data: 'v' })),
      { name: 'file', file: 'a.zip', data: 'x' },
    ]);
    expect(
      await problemOf(streamMultipartUpload(request(many.body, { 'content-type': many.type }), 1000, drain)),
    ).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    const long = await form([
      { name: 'target', data: 'x'.repeat(20_000) },
      { name: 'file', file: 'a.zip', data: 'x' },
    ]);
    expect(
      (await problemOf(streamMultipartUpload(request(long.body, { 'content-type': long.type }), 1000, drain)))
        .status,
    ).toBe(413);
  });
});
