import { cleanEdits } from './clean-edits';

describe('cleanEdits', () => {
  const suspects = [
    { sampleId: 'a', heldOutLabel: 'cat' },
    { sampleId: 'b' },
    { sampleId: 'c', heldOutLabel: 'dog' },
  ];
  const none = { remove: [] as string[], relabel: new Map<string, string>() };

  it('removes every suspect by default', () => {
    const r = cleanEdits({ suspects, removeSuspected: true, relabelSuspected: false, ...none });
    expect([...r.remove]).toEqual(['a', 'b', 'c']);
    expect(r.relabel.size).toBe(0);
  });

  it('relabels suspects with a held-out label, removing the rest only with removeSuspected', () => {
    const keep = cleanEdits({ suspects, removeSuspected: false, relabelSuspected: true, ...none });
    expect(keep.remove.size).toBe(0);
    expect([...keep.relabel]).toEqual([
      ['a', 'cat'],
      ['c', 'dog'],
    ]);
    const both = cleanEdits({ suspects, removeSuspected: true, relabelSuspected: true, ...none });
    expect([...both.remove]).toEqual(['b']);
    expect(both.relabel.size).toBe(2);
  });

  it("lets the client's own edits win over the suspects' defaults", () => {
    const r = cleanEdits({
      suspects,
      removeSuspected: true,
      relabelSuspected: true,
      remove: ['c', 'z'],
      relabel: new Map([['a', 'bird']]),
    });
    expect([...r.remove].sort()).toEqual(['b', 'c', 'z']);
    expect([...r.relabel]).toEqual([['a', 'bird']]);
  });
});
