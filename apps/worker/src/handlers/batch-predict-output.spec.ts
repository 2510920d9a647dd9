import { parse } from 'csv-parse/sync';
import { csvHeader, outputLine, parseBatchOptions } from './batch-predict-output';

const prediction = {
  label: 'cat, "tabby"',
  score: 0.9,
  top: [
    { label: 'cat, "tabby"', score: 0.9 },
    { label: 'dog', score: 0.1 },
  ],
};

describe('batch prediction output', () => {
  it('writes CSV rows that a CSV parser reads back, quotes and commas included', () => {
    const text =
      csvHeader() +
      outputLine('csv', { path: 'a, b/"c".png', prediction }) +
      outputLine('csv', { path: 'bad.png', error: 'image 0: not an image' });
    const rows = parse<Record<string, string>>(text, { columns: true });
    expect(rows).toEqual([
      {
        path: 'a, b/"c".png',
        label: 'cat, "tabby"',
        score: '0.900000',
        top: 'cat, "tabby":0.900000 dog:0.100000',
        error: '',
      },
      { path: 'bad.png', label: '', score: '', top: '', error: 'image 0: not an image' },
    ]);
  });

  it('writes one JSON object per line', () => {
    const lines = (
      outputLine('jsonl', { path: 'x.png', prediction }) +
      outputLine('jsonl', { path: 'y.png', error: 'broken' })
    )
      .trim()
      .split('\n');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      { path: 'x.png', ...prediction },
      { path: 'y.png', error: 'broken' },
    ]);
  });

  it('reads stored job options with defaults, and names what is unusable', () => {
    expect(parseBatchOptions({ inputKey: 'k', inputName: 'a.zip', inputSize: 10 })).toEqual({
      inputKey: 'k',
      inputName: 'a.zip',
      inputSize: 10,
      format: 'jsonl',
      topK: 3,
    });
    expect(
      parseBatchOptions({ inputKey: 'k', inputName: 'a.zip', inputSize: 10, format: 'csv', topK: 500 }),
    ).toMatchObject({ format: 'csv', topK: 100 });
    expect(parseBatchOptions({ inputKey: 'k', inputName: 'a.zip', inputSize: 10, format: 'xml' })).toMatch(
      /format/,
    );
    expect(parseBatchOptions(null)).toMatch(/input archive/);
  });
});
