/**
 * The budget of a search's steps after its trials (pure accounting, no training): the winner's test
 * evaluation (required), its held-out label-quality pass and its NormLIME report (both bounded: a
 * lighter held-out pass, NormLIME on fewer images, or none, each with the reason in the report).
 * The search sets their estimate for its best trial so far aside while it plans trials (`reserve`),
 * and sizes them again from what is left when its trials are over (`planFinish`).
 */
import { HELD_OUT_REPEATS } from '../held-out-scores';

/**
 * Share of the budget the report steps (held-out pass and NormLIME, not the test evaluation) may take
 * while the search plans trials: at small budgets they are planned lighter instead of taking the
 * trials' time. When the search ends with more time left, they use it (`planFinish` at the end).
 */
export const REPORT_BUDGET_SHARE = 0.15;

/**
 * Forward passes (batch 1) of the test evaluation's latency measurement (10 runs + 2 warmup), counted
 * as two batched passes each: a single-image pass costs more per image than a batched one.
 */
export const LATENCY_FORWARDS = 24;

/** The held-out pass's forms, richest first: `light` is the image view only and one fold assignment. */
export type HeldOutForm = 'full' | 'light';

/** What each step after the trials costs, in seconds of the search's clock (estimates or measured). */
export interface FinishCosts {
  /** The winner's evaluation on the test split (always run). */
  test: number;
  /** The held-out pass in each form; absent when the winner gets none (not pretrained, label quality off). */
  heldOut?: Record<HeldOutForm, number>;
  /** NormLIME: seconds per image explained and the images it explains unbounded (NORMLIME_BUDGET). */
  normLime?: { perImage: number; images: number };
}

export interface FinishPlan {
  test: number;
  /** The form planned (with why it is not the full one), or why there is none. */
  heldOut?: { form: HeldOutForm; seconds: number; note?: string } | { skipped: string };
  /** The images planned (with why fewer than unbounded), or why there is none. */
  normLime?: { images: number; seconds: number; note?: string } | { skipped: string };
  /** Estimated seconds of every planned step. */
  seconds: number;
}

const s = (x: number) => `${x.toFixed(1)} s`;

/**
 * The after-search steps sized to `allowance` seconds for the report steps (the test evaluation is
 * planned whatever it costs): the richest held-out form that fits together with one NormLIME image,
 * else the richest that fits alone; NormLIME then on as many images as fit in the rest (at least one,
 * else none). `allowance` Infinity (no budget): every step unbounded.
 */
export function planFinish(costs: FinishCosts, allowance: number): FinishPlan {
  const forms: HeldOutForm[] = ['full', 'light'];
  const nl = costs.normLime;
  const oneImage = nl && nl.images > 0 ? nl.perImage : 0;
  const budget = Math.max(0, allowance);
  let heldOut: FinishPlan['heldOut'];
  if (costs.heldOut) {
    const h = costs.heldOut;
    const form =
      forms.find((f) => h[f] + oneImage <= budget) ?? forms.find((f) => h[f] <= budget) ?? undefined;
    heldOut = form
      ? {
          form,
          seconds: h[form],
          ...(form !== 'full'
            ? {
                note: `a light held-out pass (the image view only, one fold assignment instead of ${HELD_OUT_REPEATS}): the full pass (estimated ${s(h.full)}) did not fit in the ${s(budget)} the budget left for the report steps`,
              }
            : {}),
        }
      : {
          skipped: `even its light form (estimated ${s(h.light)}) did not fit in the ${s(budget)} the budget left for the report steps`,
        };
  }
  const spent = heldOut && 'seconds' in heldOut ? heldOut.seconds : 0;
  let normLime: FinishPlan['normLime'];
  if (nl && nl.images > 0) {
    const rest = budget - spent;
    const images = nl.perImage > 0 ? Math.min(nl.images, Math.floor(rest / nl.perImage)) : nl.images;
    normLime =
      images >= 1
        ? {
            images,
            seconds: images * nl.perImage,
            ...(images < nl.images
              ? {
                  note: `NormLIME on ${images} of ${nl.images} images: the budget left ${s(Math.max(0, rest))} for it (estimated ${s(nl.perImage)} per image)`,
                }
              : {}),
          }
        : {
            skipped: `one image (estimated ${s(nl.perImage)}) did not fit in the ${s(Math.max(0, rest))} the budget left for it`,
          };
  }
  const seconds = costs.test + spent + (normLime && 'seconds' in normLime ? normLime.seconds : 0);
  return {
    test: costs.test,
    ...(heldOut ? { heldOut } : {}),
    ...(normLime ? { normLime } : {}),
    seconds,
  };
}

/**
 * Largest share of the budget the light held-out pass may take ahead of the trials. Without the pass
 * a pretrained model's suspects are AUM's alone, a weaker ranking with a larger count that cleaning
 * acts on (2-minute `npm start` jobs on the 311 food photos: AUM 82-87 suspects
 * of 249 train images, the pass 31), so the light form is kept like the test evaluation unless it
 * would take more than this of a small budget.
 */
export const HELD_OUT_FIRST_SHARE = 0.3;

/** Seconds of the light held-out pass kept ahead of the trials: 0 without one or beyond HELD_OUT_FIRST_SHARE. */
export function heldOutFirst(costs: FinishCosts, budgetSeconds: number): number {
  const light = costs.heldOut?.light;
  return light !== undefined && light <= HELD_OUT_FIRST_SHARE * budgetSeconds ? light : 0;
}

/**
 * Seconds the search sets aside for the after-search steps of its best trial so far while it plans:
 * the test evaluation plus the report steps sized to REPORT_BUDGET_SHARE of `budgetSeconds`, or to
 * the light held-out pass (heldOutFirst) when that is more.
 */
export function finishReserve(costs: FinishCosts, budgetSeconds: number): number {
  return planFinish(costs, Math.max(REPORT_BUDGET_SHARE * budgetSeconds, heldOutFirst(costs, budgetSeconds)))
    .seconds;
}

/**
 * `costs` re-scaled once the test evaluation has run: the held-out pass and NormLIME run the same
 * backbone's forward passes, so their estimates take the test evaluation's measured/estimated ratio
 * (bounded to [1/4, 4]: one measurement).
 */
export function rescaleCosts(costs: FinishCosts, measuredTest: number): FinishCosts {
  if (!(costs.test > 0) || !(measuredTest > 0)) return costs;
  const r = Math.min(4, Math.max(1 / 4, measuredTest / costs.test));
  return {
    test: measuredTest,
    ...(costs.heldOut ? { heldOut: { full: costs.heldOut.full * r, light: costs.heldOut.light * r } } : {}),
    ...(costs.normLime ? { normLime: { ...costs.normLime, perImage: costs.normLime.perImage * r } } : {}),
  };
}
