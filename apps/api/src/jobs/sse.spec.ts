import { formatSse, formatSseComment, resumeAfter, wantsEventStream } from './sse';

describe('formatSse', () => {
  it('writes id, event and one-line JSON data, ending with a blank line', () => {
    expect(formatSse({ id: 3, event: 'progress', data: { percent: 50, message: 'a\nb' } })).toBe(
      'id: 3\nevent: progress\ndata: {"percent":50,"message":"a\\nb"}\n\n',
    );
  });

  it('cannot be broken by newlines in id or event', () => {
    expect(formatSse({ id: '1\n2', event: 'x\ry', data: null })).toBe('id: 12\nevent: xy\ndata: null\n\n');
  });

  it('writes comments', () => {
    expect(formatSseComment('keep\nalive')).toBe(': keep alive\n\n');
  });
});

describe('wantsEventStream', () => {
  it('matches text/event-stream among other types', () => {
    expect(wantsEventStream('text/event-stream')).toBe(true);
    expect(wantsEventStream('application/json, text/event-stream;q=0.9')).toBe(true);
    expect(wantsEventStream('application/json')).toBe(false);
    expect(wantsEventStream('*/*')).toBe(false);
    expect(wantsEventStream(undefined)).toBe(false);
  });
});

describe('resumeAfter', () => {
  it('prefers a numeric Last-Event-ID over ?after', () => {
    expect(resumeAfter('7', 2)).toBe(7);
    expect(resumeAfter(['9'], 0)).toBe(9);
    expect(resumeAfter(undefined, 2)).toBe(2);
    expect(resumeAfter('nope', 4)).toBe(4);
    expect(resumeAfter('-1', 4)).toBe(4);
  });
});
