import { PermanentJobError } from '@modelsmith/jobs';
import { parseRecords, tabularCsvHeader, tabularOutputLine } from './tabular-batch-predict';

describe('tabular batch input and output', () => {
  it('reads {"instances"}, JSON lines and CSV with a header', () => {
    expect(parseRecords('{"instances":[{"a":1},{"a":null}]}', 'x.json')).toEqual([{ a: 1 }, { a: null }]);
    expect(parseRecords('{"a":1}\n\n{"a":2,"b":"x"}\n', 'x.jsonl')).toEqual([{ a: 1 }, { a: 2, b: 'x' }]);
    expect(parseRecords('\uFEFFa,b\n1, x \n2,\n', 'x.csv')).toEqual([
      { a: '1', b: 'x' },
      { a: '2', b: '' },
    ]);
  });

  it('fails for good on input that is none of them, naming the line', () => {
    expect(() => parseRecords('{"a":1}\n{oops\n', 'x.jsonl')).toThrow(/x.jsonl line 2: not valid JSON/);
    expect(() => parseRecords('{"rows":[]}', 'x.json')).toThrow(PermanentJobError);
    expect(() => parseRecords('a,b\n1,2,3\n', 'x.csv')).toThrow(/not \{"instances"/);
  });

  it('writes one line per record, errors included', () => {
    const cls = { label: 'b', index: 1, score: 0.75, probabilities: { a: 0.25, b: 0.75 } };
    expect(tabularOutputLine('jsonl', { row: 1, prediction: cls })).toBe(
      '{"row":1,"label":"b","index":1,"score":0.75,"probabilities":{"a":0.25,"b":0.75}}\n',
    );
    expect(tabularOutputLine('jsonl', { row: 2, error: 'x must be a number' })).toBe(
      '{"row":2,"error":"x must be a number"}\n',
    );
    expect(tabularCsvHeader()).toBe('row,label,score,value,error\n');
    expect(tabularOutputLine('csv', { row: 1, prediction: cls })).toBe('1,b,0.750000,,\n');
    expect(tabularOutputLine('csv', { row: 3, prediction: { value: 2.5 } })).toBe('3,,,2.5,\n');
    expect(tabularOutputLine('csv', { row: 4, error: 'x, y' })).toBe('4,,,,"x, y"\n');
  });
});
