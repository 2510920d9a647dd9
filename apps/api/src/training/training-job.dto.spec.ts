import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { TrainingOptionsDto } from './training-job.dto';

const errorsOf = (options: unknown) =>
  validateSync(plainToInstance(TrainingOptionsDto, options) as object).flatMap(function flat(e): string[] {
    return [
      ...Object.keys(e.constraints ?? {}).map((c) => `${e.property}.${c}`),
      ...(e.children ?? []).flatMap(flat),
    ];
  });

describe('TrainingOptionsDto.transfer', () => {
  it('accepts the known regularizers and bounded strengths', () => {
    expect(
      errorsOf({ transfer: { regularizer: 'l2sp', alpha: 0.1, beta: 0.01, conflictRule: true } }),
    ).toEqual([]);
    expect(errorsOf({ transfer: { regularizer: 'auto' } })).toEqual([]);
    expect(errorsOf({ transfer: { regularizer: 'none' } })).toEqual([]);
    expect(errorsOf({ transfer: { regularizer: 'bss', eta: 0.001, k: 2 } })).toEqual([]);
    expect(errorsOf({ transfer: { regularizer: 'rifle', reinitTimes: 2 } })).toEqual([]);
    expect(errorsOf({ transfer: { regularizer: 'delta', alpha: 0.01, beta: 0.01 } })).toEqual([]);
  });

  it('rejects an unknown regularizer, out-of-range strengths and a non-object', () => {
    expect(errorsOf({ transfer: { regularizer: 'deltas' } })).toEqual(['regularizer.isIn']);
    expect(errorsOf({ transfer: { k: 0 } })).toEqual(['k.min']);
    expect(errorsOf({ transfer: { reinitTimes: 11 } })).toEqual(['reinitTimes.max']);
    expect(errorsOf({ transfer: { eta: -1 } })).toEqual(['eta.min']);
    expect(errorsOf({ transfer: { alpha: 11 } })).toEqual(['alpha.max']);
    expect(errorsOf({ transfer: { beta: -1 } })).toEqual(['beta.min']);
    expect(errorsOf({ transfer: 'l2sp' })).toContain('transfer.isObject');
  });
});
