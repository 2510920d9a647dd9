import { PassThrough } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { ProblemError } from '../problem';
import { emptyFileProblem, formFieldProblem, multipartParser } from './multipart';

const BOUNDARY = 'xyz';
const request = (body: string): IncomingMessage => {
  const req = new PassThrough() as unknown as IncomingMessage;
  req.headers = { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` };
  (req as unknown as PassThrough).end(Buffer.from(body, 'latin1'));
  return req;
};
const part = (disposition: string, value: string) =>
  `--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n\r\n${value}\r\n`;

/** Runs a parser over `body` with `onField`; resolves with the parser's error, or undefined when it finished. */
function parse(body: string, onField: (name: string, value: string) => void): Promise<unknown> {
  return new Promise((resolve) => {
    const req = request(body);
    const parser = multipartParser(req, { fields: 10 });
    parser.on('field', (name, value) => onField(name, value));
    parser.on('error', resolve);
    parser.on('close', () => resolve(undefined));
    req.pipe(parser);
  });
}

describe('multipart form fields', () => {
  it('gives a part whose name busboy cannot read (a control character in it) to the listener as undefined, and formFieldProblem refuses it', async () => {
    const names: unknown[] = [];
    await parse(`${part('form-data; name="a\u0013b"', 'v')}--${BOUNDARY}--\r\n`, (name) => names.push(name));
    expect(names).toEqual([undefined]);
    const p = formFieldProblem(
      undefined,
      'v',
      { nameTruncated: false, valueTruncated: false, encoding: '7bit', mimeType: 'text/plain' },
      1024,
    );
    expect(p).toBeInstanceOf(ProblemError);
    expect(p).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      extensions: { errors: [{ field: '(field name)' }] },
    });
  });

  it("turns an exception in a parser's listener into the parser's error instead of one that escapes the request stream (the serving process exited on it)", async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const error = await parse(`${part('form-data; name="topK"', '3')}--${BOUNDARY}--\r\n`, () => {
        throw new TypeError('listener bug');
      });
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toBe('listener bug');
      await new Promise((r) => setTimeout(r, 20));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('still parses well-formed fields', async () => {
    const seen: [string, string][] = [];
    expect(
      await parse(
        `${part('form-data; name="format"', 'csv')}${part('form-data; name="topK"', '3')}--${BOUNDARY}--\r\n`,
        (n, v) => seen.push([n, v]),
      ),
    ).toBeUndefined();
    expect(seen).toEqual([
      ['format', 'csv'],
      ['topK', '3'],
    ]);
  });
});

describe('emptyFileProblem', () => {
  it('is a 422 UNPROCESSABLE problem that names the file', () => {
    const p = emptyFileProblem('digits.zip');
    expect(p).toBeInstanceOf(ProblemError);
    expect(p).toMatchObject({
      status: 422,
      code: 'UNPROCESSABLE',
      title: 'Empty file',
      detail: '"digits.zip" is empty',
    });
  });
});
