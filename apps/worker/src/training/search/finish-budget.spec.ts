import { HELD_OUT_REPEATS } from '../held-out-scores';
import {
  finishReserve,
  HELD_OUT_FIRST_SHARE,
  heldOutFirst,
  planFinish,
  REPORT_BUDGET_SHARE,
  rescaleCosts,
  type FinishCosts,
} from './finish-budget';

describe('finish budget: the steps after the trials sized to the budget left', () => {
  // Test 5 s; held-out 12 s (light 5); NormLIME 2 s per image, 30 images unbounded.
  const costs: FinishCosts = {
    test: 5,
    heldOut: { full: 12, light: 5 },
    normLime: { perImage: 2, images: 30 },
  };

  it('unbounded (no budget): every step whole, no note', () => {
    const p = planFinish(costs, Infinity);
    expect(p.heldOut).toEqual({ form: 'full', seconds: 12 });
    expect(p.normLime).toEqual({ images: 30, seconds: 60 });
    expect(p.seconds).toBe(5 + 12 + 60);
  });

  it('the full held-out pass first, NormLIME on the images that fit in the rest, said in its note', () => {
    const p = planFinish(costs, 21);
    expect(p.heldOut).toEqual({ form: 'full', seconds: 12 });
    expect(p.normLime).toMatchObject({ images: 4, seconds: 8 });
    expect(p.normLime && 'note' in p.normLime && p.normLime.note).toBe(
      'NormLIME on 4 of 30 images: the budget left 9.0 s for it (estimated 2.0 s per image)',
    );
    expect(p.seconds).toBe(5 + 12 + 8);
  });

  it('the light held-out pass when the full one and one NormLIME image do not fit; none when the light one does not', () => {
    const light = planFinish(costs, 13);
    expect(light.heldOut).toMatchObject({ form: 'light', seconds: 5 });
    expect(light.heldOut && 'note' in light.heldOut && light.heldOut.note).toContain(
      `one fold assignment instead of ${HELD_OUT_REPEATS}): the full pass (estimated 12.0 s) did not fit in the 13.0 s`,
    );
    expect(light.normLime).toMatchObject({ images: 4 });
    // 12 s: full (12) + one image (2) does not fit; light + one image does.
    expect(planFinish(costs, 12).heldOut).toMatchObject({ form: 'light' });
    // 6 s: light alone (5) fits, no NormLIME image after it.
    const tight = planFinish(costs, 6);
    expect(tight.heldOut).toMatchObject({ form: 'light' });
    expect(tight.normLime).toEqual({
      skipped: 'one image (estimated 2.0 s) did not fit in the 1.0 s the budget left for it',
    });
    expect(tight.seconds).toBe(10);
    const none = planFinish(costs, 4);
    expect(none.heldOut).toEqual({
      skipped:
        'even its light form (estimated 5.0 s) did not fit in the 4.0 s the budget left for the report steps',
    });
    expect(none.normLime).toMatchObject({ images: 2, seconds: 4 });
    // A budget already over: only the test evaluation (required) is planned.
    const over = planFinish(costs, -3);
    expect('skipped' in over.heldOut! && 'skipped' in over.normLime!).toBe(true);
    expect(over.seconds).toBe(5);
  });

  it('no held-out pass planned for a winner without one (not pretrained), NormLIME takes the allowance', () => {
    const p = planFinish({ test: 1, normLime: { perImage: 0.5, images: 100 } }, 10);
    expect(p.heldOut).toBeUndefined();
    expect(p.normLime).toMatchObject({ images: 20, seconds: 10 });
  });

  it('the reserve while planning: the test evaluation plus the report steps within their share of the budget', () => {
    // 60 s budget: 9 s for the report steps: the light pass (5) and 2 images (4).
    expect(REPORT_BUDGET_SHARE * 60).toBeCloseTo(9, 9);
    expect(finishReserve(costs, 60)).toBeCloseTo(5 + 5 + 4, 9);
    // 200 s: 30 s: the full pass (12) and 9 images (18).
    expect(finishReserve(costs, 200)).toBeCloseTo(5 + 12 + 18, 9);
    // A one-hour budget: everything (77 s).
    expect(finishReserve(costs, 3600)).toBeCloseTo(77, 9);
  });

  it('keeps the light held-out pass ahead of the trials when the share would leave it out, up to HELD_OUT_FIRST_SHARE', () => {
    // 20 s budget: 3 s for the report steps would plan 1 NormLIME image and no held-out pass; the
    // light pass (5 s, a quarter of the budget) is kept instead, with no NormLIME image after it.
    expect(planFinish(costs, REPORT_BUDGET_SHARE * 20).heldOut).toMatchObject({
      skipped: expect.any(String),
    });
    expect(heldOutFirst(costs, 20)).toBe(5);
    expect(finishReserve(costs, 20)).toBeCloseTo(5 + 5, 9);
    // 15 s: the light pass would take a third of it (> 0.3): the trials come first, as before.
    expect(HELD_OUT_FIRST_SHARE * 15).toBeLessThan(5);
    expect(heldOutFirst(costs, 15)).toBe(0);
    expect(finishReserve(costs, 15)).toBeCloseTo(5 + 2, 9);
    // No held-out pass for the winner: nothing kept.
    expect(heldOutFirst({ test: 1, normLime: { perImage: 0.5, images: 100 } }, 1000)).toBe(0);
  });

  it('after the test evaluation the other estimates take its measured/estimated ratio, bounded to [1/4, 4]', () => {
    const half = rescaleCosts(costs, 2.5);
    expect(half).toEqual({
      test: 2.5,
      heldOut: { full: 6, light: 2.5 },
      normLime: { perImage: 1, images: 30 },
    });
    expect(rescaleCosts(costs, 500).heldOut?.full).toBeCloseTo(48, 9);
    expect(rescaleCosts(costs, 0.01).normLime?.perImage).toBeCloseTo(0.5, 9);
    expect(rescaleCosts({ ...costs, test: 0 }, 3)).toEqual({ ...costs, test: 0 });
  });
});
