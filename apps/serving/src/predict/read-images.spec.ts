import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { ProblemError } from '@modelsmith/http';
import { decodeBase64Image, parseJsonBody, parseTopK, readPredictImages } from './read-images';
import { Admission } from './admission';

const limits = { maxBytes: 1000, maxImages: 3 };

function request(body: Buffer | string, headers: Record<string, string>): IncomingMessage {
  const stream = Readable.from([Buffer.from(body)]) as unknown as IncomingMessage;
  stream.headers = headers;
  return stream;
}

async function problemOf(p: Promise<unknown> | (() => unknown)): Promise<ProblemError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof ProblemError) return e;
    throw e;
  }
  throw new Error('expected a problem');
}

async function multipart(
  parts: { name: string; file?: string; data: string }[],
): Promise<{ body: Buffer; type: string }> {
  const form = new FormData();
  for (const part of parts) {
    if (part.file) form.append(part.name, new Blob([part.data]), part.file);
    else form.append(part.name, part.data);
  }
  const res = new Response(form);
  return { body: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type')! };
}

describe('predict request parsing', () => {
  it('decodes standard and url-safe base64, data URLs, and refuses garbage naming the image', async () => {
    const bytes = Buffer.from([0xfb, 0xff, 0x00, 0x10]);
    expect(decodeBase64Image(bytes.toString('base64'), 0)).toEqual(bytes);
    expect(decodeBase64Image(bytes.toString('base64url'), 0)).toEqual(bytes);
    expect(decodeBase64Image(`data:image/png;base64,${bytes.toString('base64')}`, 0)).toEqual(bytes);
    expect((await problemOf(() => decodeBase64Image('not base64!', 2))).detail).toMatch(/images\[2\]/);
    expect((await problemOf(() => decodeBase64Image(42, 1))).status).toBe(400);
  });

  it('reads JSON bodies with images as strings or objects, and topK', () => {
    const b64 = Buffer.from('abc').toString('base64');
    const parsed = parseJsonBody({ images: [b64, { base64: b64 }, { data: b64 }], topK: 2 }, limits);
    expect(parsed.images.map((i) => i.toString())).toEqual(['abc', 'abc', 'abc']);
    expect(parsed.topK).toBe(2);
    expect(parseJsonBody({ image: b64 }, limits).images).toHaveLength(1);
  });

  it('refuses empty, oversized and malformed JSON requests with the right status', async () => {
    const b64 = Buffer.from('abc').toString('base64');
    expect((await problemOf(() => parseJsonBody({ images: [] }, limits))).status).toBe(400);
    expect((await problemOf(() => parseJsonBody({ images: b64 }, limits))).status).toBe(400);
    expect((await problemOf(() => parseJsonBody([b64], limits))).status).toBe(400);
    expect((await problemOf(() => parseJsonBody({ images: [b64, b64, b64, b64] }, limits))).status).toBe(413);
    expect((await problemOf(() => parseTopK(0))).status).toBe(400);
    expect((await problemOf(() => parseTopK('2.5'))).status).toBe(400);
    expect(parseTopK('7')).toBe(7);
    expect(parseTopK(undefined)).toBeUndefined();
  });

  it('reads multipart file parts as images and a topK field', async () => {
    const { body, type } = await multipart([
      { name: 'topK', data: '4' },
      { name: 'image', file: 'a.png', data: 'AAA' },
      { name: 'whatever', file: 'b.jpg', data: 'BB' },
    ]);
    const input = await readPredictImages(
      request(body, { 'content-type': type, 'content-length': String(body.length) }),
      limits,
    );
    expect(input.images.map((i) => i.toString())).toEqual(['AAA', 'BB']);
    expect(input.topK).toBe(4);
  });

  it('caps multipart requests by image count and by bytes while reading', async () => {
    const many = await multipart(
      Array.from({ length: 4 }, (_, i) => ({ name: 'image', file: `${i}.png`, data: 'x' })),
    );
    expect(
      (await problemOf(readPredictImages(request(many.body, { 'content-type': many.type }), limits))).status,
    ).toBe(413);
    const big = await multipart([{ name: 'image', file: 'big.png', data: 'y'.repeat(2000) }]);
    // No content-length: the cap applies to the bytes actually read.
    expect(
      (await problemOf(readPredictImages(request(big.body, { 'content-type': big.type }), limits))).status,
    ).toBe(413);
    const none = await multipart([{ name: 'topK', data: '1' }]);
    expect(
      (await problemOf(readPredictImages(request(none.body, { 'content-type': none.type }), limits))).status,
    ).toBe(400);
  });

  it('answers a multipart body that ends inside a file part with 400, and nothing is left throwing (the process stays up)', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const truncated =
        '--zz\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n\x89PNG';
      const p = await problemOf(
        readPredictImages(request(truncated, { 'content-type': 'multipart/form-data; boundary=zz' }), limits),
      );
      expect(p).toMatchObject({ status: 400, code: 'BAD_REQUEST', title: 'Malformed multipart body' });
      // A second file part after the first is refused, also truncated: each file stream's error is heard.
      const two =
        '--zz\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\nA\r\n--zz\r\nContent-Disposition: form-data; name="image"; filename="b.png"\r\n\r\nB';
      expect(
        (
          await problemOf(
            readPredictImages(request(two, { 'content-type': 'multipart/form-data; boundary=zz' }), limits),
          )
        ).status,
      ).toBe(400);
      expect(
        (await problemOf(readPredictImages(request('x', { 'content-type': 'multipart/form-data' }), limits)))
          .status,
      ).toBe(400); // no boundary
      expect(
        (
          await problemOf(
            readPredictImages(
              request('--zz\r\nbroken header\r\n\r\n', {
                'content-type': 'multipart/form-data; boundary=zz',
              }),
              limits,
            ),
          )
        ).status,
      ).toBe(400);
      await new Promise((r) => setTimeout(r, 50));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('refuses form fields with control characters, too long, or too many', async () => {
    const nul = await multipart([
      { name: 'topK', data: '3\u0000' },
      { name: 'image', file: 'a.png', data: 'x' },
    ]);
    expect(
      await problemOf(readPredictImages(request(nul.body, { 'content-type': nul.type }), limits)),
    ).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', extensions: { errors: [{ field: 'topK' }] } });
    const long = await multipart([
      { name: 'topK', data: '1'.repeat(2000) },
      { name: 'image', file: 'a.png', data: 'x' },
    ]);
    expect(
      (
        await problemOf(
          readPredictImages(request(long.body, { 'content-type': long.type }), {
            ...limits,
            maxBytes: 10_000,
          }),
        )
      ).status,
    ).toBe(413);
    const fields = await multipart(Array.from({ length: 30 }, (_, i) => ({ name: `f${i}`, data: 'v' })));
    expect(
      (
        await problemOf(
          readPredictImages(request(fields.body, { 'content-type': fields.type }), {
            ...limits,
            maxBytes: 10_000,
          }),
        )
      ).status,
    ).toBe(413);
  });

  it('takes one raw image body, refuses declared-oversized bodies up front and unknown content types', async () => {
    const raw = await readPredictImages(request('PNGDATA', { 'content-type': 'image/png' }), limits);
    expect(raw.images.map((i) => i.toString())).toEqual(['PNGDATA']);
    expect(
      (
        await problemOf(
          readPredictImages(request('x', { 'content-type': 'image/png', 'content-length': '5000' }), limits),
        )
      ).status,
    ).toBe(413);
    expect(
      (await problemOf(readPredictImages(request('x', { 'content-type': 'text/plain' }), limits))).status,
    ).toBe(415);
    expect(
      (await problemOf(readPredictImages(request('{nope', { 'content-type': 'application/json' }), limits)))
        .status,
    ).toBe(400);
  });
});

describe('Admission', () => {
  it('admits up to its limit, refuses beyond, and frees a slot once per release', () => {
    const a = new Admission(2);
    const r1 = a.tryEnter();
    const r2 = a.tryEnter();
    expect(r1 && r2).toBeTruthy();
    expect(a.tryEnter()).toBeNull();
    r1!();
    r1!();
    expect(a.active).toBe(1);
    expect(a.tryEnter()).not.toBeNull();
    expect(a.tryEnter()).toBeNull();
  });
});

describe('instances bodies (text and tabular models)', () => {
  it('keeps the explain member with the instances, unparsed', async () => {
    const body = JSON.stringify({ instances: ['ciao a tutti'], topK: 2, explain: { samples: 64 } });
    const input = await readPredictImages(request(body, { 'content-type': 'application/json' }), {
      ...limits,
      maxInstances: 1,
    });
    expect(input).toEqual({ images: [], instances: ['ciao a tutti'], topK: 2, explain: { samples: 64 } });
    const plain = await readPredictImages(
      request(JSON.stringify({ instances: ['x'] }), { 'content-type': 'application/json' }),
      limits,
    );
    expect('explain' in plain).toBe(false);
  });
});
