import { cleanEdits, type SampleInfo } from './clean-edits';

/** A version's samples and training counts from `class: [train ids, other-split ids]`. */
function version(classes: Record<string, [train: string[], other?: string[]]>) {
  const samples = new Map<string, SampleInfo>();
  const trainCounts = new Map<string, number>();
  for (const [label, [train, other = []]] of Object.entries(classes)) {
    for (const id of train) samples.set(id, { label, train: true });
    for (const id of other) samples.set(id, { label, train: false });
    trainCounts.set(label, train.length);
  }
  return { samples, trainCounts, minTrainPerClass: 5 };
}
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
const none = { remove: [] as string[], relabel: new Map<string, string>() };

describe('cleanEdits', () => {
  const suspects = [
    { sampleId: 'a1', heldOutLabel: 'cat' },
    { sampleId: 'b1' },
    { sampleId: 'c1', heldOutLabel: 'dog' },
  ];
  const roomy = version({ a: [ids('a', 9)], b: [ids('b', 9)], c: [ids('c', 9)], cat: [[]], dog: [[]] });

  it('removes every suspect by default', () => {
    const r = cleanEdits({ suspects, removeSuspected: true, relabelSuspected: false, ...none, ...roomy });
    expect([...r.remove]).toEqual(['a1', 'b1', 'c1']);
    expect(r.relabel.size).toBe(0);
    expect(r.kept).toEqual([]);
  });

  it('relabels suspects with a held-out label, removing the rest only with removeSuspected', () => {
    const keep = cleanEdits({ suspects, removeSuspected: false, relabelSuspected: true, ...none, ...roomy });
    expect(keep.remove.size).toBe(0);
    expect([...keep.relabel]).toEqual([
      ['a1', 'cat'],
      ['c1', 'dog'],
    ]);
    const both = cleanEdits({ suspects, removeSuspected: true, relabelSuspected: true, ...none, ...roomy });
    expect([...both.remove]).toEqual(['b1']);
    expect(both.relabel.size).toBe(2);
  });

  it("lets the client's own edits win over the suspects' defaults", () => {
    const r = cleanEdits({
      suspects,
      removeSuspected: true,
      relabelSuspected: true,
      remove: ['c1', 'z'],
      relabel: new Map([['a1', 'bird']]),
      ...roomy,
    });
    expect([...r.remove].sort()).toEqual(['b1', 'c1', 'z']);
    expect([...r.relabel]).toEqual([['a1', 'bird']]);
  });

  it('removes suspects most suspect first only while their class keeps the training minimum', () => {
    // cat: 7 training images, 4 of them suspects listed out of id order; dog has room.
    const v = version({ cat: [ids('c', 7)], dog: [ids('d', 8)] });
    const r = cleanEdits({
      suspects: [
        { sampleId: 'c4' },
        { sampleId: 'd1' },
        { sampleId: 'c2' },
        { sampleId: 'c7' },
        { sampleId: 'c1' },
      ],
      removeSuspected: true,
      relabelSuspected: false,
      ...none,
      ...v,
    });
    expect([...r.remove]).toEqual(['c4', 'd1', 'c2']);
    expect(r.kept).toEqual([
      {
        sampleId: 'c7',
        label: 'cat',
        reason:
          'class "cat" has 5 training images; removing it would leave 4, below the minimum of 5 to train',
      },
      { sampleId: 'c1', label: 'cat', reason: expect.stringMatching(/^class "cat" has 5 training images/) },
    ]);
  });

  it('caps relabels the same way: moving a sample out of its class lowers that class', () => {
    const v = version({ cat: [ids('c', 6)], dog: [ids('d', 9)] });
    const r = cleanEdits({
      suspects: [
        { sampleId: 'c1', heldOutLabel: 'dog' },
        { sampleId: 'c2', heldOutLabel: 'dog' },
        { sampleId: 'c3' },
      ],
      removeSuspected: true,
      relabelSuspected: true,
      ...none,
      ...v,
    });
    expect([...r.relabel]).toEqual([['c1', 'dog']]);
    expect(r.remove.size).toBe(0);
    expect(r.kept.map((k) => [k.sampleId, k.reason])).toEqual([
      [
        'c2',
        'class "cat" has 5 training images; relabeling it would leave 4, below the minimum of 5 to train',
      ],
      ['c3', 'class "cat" has 5 training images; removing it would leave 4, below the minimum of 5 to train'],
    ]);
  });

  it("counts a relabel into a class (the client's or a suspect's) before capping that class", () => {
    const v = version({ cat: [ids('c', 9)], dog: [ids('d', 5)] });
    const suspectInto = cleanEdits({
      suspects: [{ sampleId: 'c1', heldOutLabel: 'dog' }, { sampleId: 'd1' }, { sampleId: 'd2' }],
      removeSuspected: true,
      relabelSuspected: true,
      ...none,
      ...v,
    });
    expect([...suspectInto.relabel]).toEqual([['c1', 'dog']]);
    expect([...suspectInto.remove]).toEqual(['d1']);
    expect(suspectInto.kept.map((k) => k.sampleId)).toEqual(['d2']);
    // The other way round, the dog suspect comes first, when dog has only the minimum.
    const before = cleanEdits({
      suspects: [{ sampleId: 'd1' }, { sampleId: 'c1', heldOutLabel: 'dog' }],
      removeSuspected: true,
      relabelSuspected: true,
      ...none,
      ...v,
    });
    expect(before.kept.map((k) => k.sampleId)).toEqual(['d1']);
    expect([...before.relabel]).toEqual([['c1', 'dog']]);
    const clientInto = cleanEdits({
      suspects: [{ sampleId: 'd1' }, { sampleId: 'd2' }],
      removeSuspected: true,
      relabelSuspected: false,
      remove: [],
      relabel: new Map([
        ['c1', 'dog'],
        ['c2', 'dog'],
      ]),
      ...v,
    });
    expect([...clientInto.remove]).toEqual(['d1', 'd2']);
    expect(clientInto.kept).toEqual([]);
  });

  it("applies the client's own removals as given, even below the minimum, and counts them", () => {
    const v = version({ cat: [ids('c', 6)], dog: [ids('d', 9)] });
    const r = cleanEdits({
      suspects: [{ sampleId: 'c5' }, { sampleId: 'd1' }],
      removeSuspected: true,
      relabelSuspected: false,
      remove: ['c1', 'c2', 'c3', 'c4'],
      relabel: new Map(),
      ...v,
    });
    expect([...r.remove]).toEqual(['c1', 'c2', 'c3', 'c4', 'd1']);
    expect(r.kept).toEqual([
      {
        sampleId: 'c5',
        label: 'cat',
        reason:
          'class "cat" has 2 training images; removing it would leave 1, below the minimum of 5 to train',
      },
    ]);
  });

  it('removes no training suspect of a class that starts below the minimum, but does outside training', () => {
    const v = version({ bird: [ids('b', 3), ['bv1']], dog: [ids('d', 9)] });
    const r = cleanEdits({
      suspects: [{ sampleId: 'b1' }, { sampleId: 'bv1' }, { sampleId: 'b2', heldOutLabel: 'dog' }],
      removeSuspected: true,
      relabelSuspected: true,
      ...none,
      ...v,
    });
    expect([...r.remove]).toEqual(['bv1']);
    expect(r.relabel.size).toBe(0);
    expect(r.kept.map((k) => [k.sampleId, k.label, k.reason])).toEqual([
      [
        'b1',
        'bird',
        'class "bird" has 3 training images; removing it would leave 2, below the minimum of 5 to train',
      ],
      [
        'b2',
        'bird',
        'class "bird" has 3 training images; relabeling it would leave 2, below the minimum of 5 to train',
      ],
    ]);
  });
});
