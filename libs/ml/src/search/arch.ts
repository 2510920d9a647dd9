import { mixSeed, Rng } from '../train/rng';

/**
 * The architecture space of the searched convnet (`nas_cnn`): a stem convolution, then 2-4 stages;
 * each stage halves the resolution at its first block and stacks `depth` blocks of one kind:
 * 'conv' (3x3 conv, batch norm, ReLU) or 'mb' (MobileNetV2's inverted residual: 1x1 expansion by
 * `expand`, 3x3 depthwise, 1x1 projection, a residual connection when shapes allow). Written as a
 * short string so that a trial's params (flat JSON) carry it: `s16-c24x1-m32x2e4-m64x2e4`.
 */
export interface NasStage {
  block: 'conv' | 'mb';
  width: number;
  depth: number;
  /** Expansion ratio of 'mb' blocks (1 for 'conv'). */
  expand: number;
}

export interface NasArch {
  stem: number;
  stages: NasStage[];
}

export const NAS_WIDTHS = [8, 12, 16, 24, 32, 48, 64, 96] as const;
export const NAS_STEMS = [8, 16, 24, 32] as const;
export const NAS_EXPANDS = [2, 4, 6] as const;
export const NAS_DEPTH = { min: 1, max: 3 } as const;
export const NAS_STAGES = { min: 2, max: 4 } as const;

/** The default architecture (what `backbone: nas_cnn` builds outside a search). */
export const DEFAULT_NAS_ARCH = 's16-c24x1-m32x2e4-m64x2e4';

export class NasArchError extends Error {
  readonly code = 'NAS_ARCH_INVALID';
}

export function formatArch(a: NasArch): string {
  return [
    `s${a.stem}`,
    ...a.stages.map((s) =>
      s.block === 'conv' ? `c${s.width}x${s.depth}` : `m${s.width}x${s.depth}e${s.expand}`,
    ),
  ].join('-');
}

/** Parses and validates an architecture string; throws NasArchError naming the bad part. */
export function parseArch(text: string): NasArch {
  if (typeof text !== 'string' || text.length > 200)
    throw new NasArchError('an architecture is a short string');
  const [stemPart, ...stageParts] = text.split('-');
  const stem = /^s(\d{1,3})$/.exec(stemPart ?? '');
  if (!stem || !(NAS_STEMS as readonly number[]).includes(Number(stem[1])))
    throw new NasArchError(`stem ${JSON.stringify(stemPart)}: expected s<${NAS_STEMS.join('|')}>`);
  if (stageParts.length < NAS_STAGES.min || stageParts.length > NAS_STAGES.max)
    throw new NasArchError(`${stageParts.length} stages: expected ${NAS_STAGES.min}-${NAS_STAGES.max}`);
  const stages = stageParts.map((part): NasStage => {
    const m = /^([cm])(\d{1,3})x(\d)(?:e(\d))?$/.exec(part);
    if (!m)
      throw new NasArchError(
        `stage ${JSON.stringify(part)}: expected c<width>x<depth> or m<width>x<depth>e<expand>`,
      );
    const block = m[1] === 'c' ? 'conv' : 'mb';
    const width = Number(m[2]);
    const depth = Number(m[3]);
    if (!(NAS_WIDTHS as readonly number[]).includes(width))
      throw new NasArchError(`stage ${part}: width ${width} not in ${NAS_WIDTHS.join(', ')}`);
    if (depth < NAS_DEPTH.min || depth > NAS_DEPTH.max)
      throw new NasArchError(`stage ${part}: depth ${depth} not in ${NAS_DEPTH.min}-${NAS_DEPTH.max}`);
    if (block === 'conv') {
      if (m[4] !== undefined) throw new NasArchError(`stage ${part}: a conv stage has no expansion`);
      return { block, width, depth, expand: 1 };
    }
    const expand = Number(m[4]);
    if (!(NAS_EXPANDS as readonly number[]).includes(expand))
      throw new NasArchError(`stage ${part}: expansion ${m[4] ?? '(none)'} not in ${NAS_EXPANDS.join(', ')}`);
    return { block, width, depth, expand };
  });
  return { stem: Number(stem[1]), stages };
}

function pick<T>(rng: Rng, values: readonly T[]): T {
  return values[rng.int(values.length)];
}

function randomStage(rng: Rng, minWidth: number): NasStage {
  const widths = NAS_WIDTHS.filter((w) => w >= minWidth);
  const block = rng.next() < 0.5 ? 'conv' : 'mb';
  return {
    block,
    width: pick(rng, widths.length ? widths : [NAS_WIDTHS[NAS_WIDTHS.length - 1]]),
    depth: NAS_DEPTH.min + rng.int(NAS_DEPTH.max - NAS_DEPTH.min + 1),
    expand: block === 'mb' ? pick(rng, NAS_EXPANDS) : 1,
  };
}

/** A random architecture, a pure function of (seed, i); widths do not shrink from stage to stage. */
export function randomArch(seed: number, i: number): string {
  const rng = new Rng(mixSeed(seed, i, 0x4e4153));
  const stem = pick(rng, NAS_STEMS);
  const n = NAS_STAGES.min + rng.int(NAS_STAGES.max - NAS_STAGES.min + 1);
  const stages: NasStage[] = [];
  let prev = 8;
  for (let s = 0; s < n; s++) {
    const st = randomStage(rng, prev);
    stages.push(st);
    prev = st.width;
  }
  return formatArch({ stem, stages });
}

/**
 * One mutation of `arch` (aging evolution's child), a pure function of (arch, seed, i): one of
 * change a stage's width one step, its depth by one, its block kind, its expansion, the stem, or
 * add / remove the last stage. Always returns a valid architecture different from the parent.
 */
export function mutateArch(arch: string, seed: number, i: number): string {
  const parent = parseArch(arch);
  const rng = new Rng(mixSeed(seed, i, 0x4d5554));
  for (let attempt = 0; attempt < 32; attempt++) {
    const a: NasArch = { stem: parent.stem, stages: parent.stages.map((s) => ({ ...s })) };
    const s = a.stages[rng.int(a.stages.length)];
    const step = rng.next() < 0.5 ? -1 : 1;
    switch (rng.int(7)) {
      case 0: {
        const k = (NAS_WIDTHS as readonly number[]).indexOf(s.width) + step;
        if (k >= 0 && k < NAS_WIDTHS.length) s.width = NAS_WIDTHS[k];
        break;
      }
      case 1:
        s.depth = Math.min(NAS_DEPTH.max, Math.max(NAS_DEPTH.min, s.depth + step));
        break;
      case 2:
        s.block = s.block === 'conv' ? 'mb' : 'conv';
        s.expand = s.block === 'mb' ? pick(rng, NAS_EXPANDS) : 1;
        break;
      case 3:
        if (s.block === 'mb') s.expand = pick(rng, NAS_EXPANDS);
        break;
      case 4:
        a.stem = pick(rng, NAS_STEMS);
        break;
      case 5:
        if (a.stages.length < NAS_STAGES.max)
          a.stages.push(randomStage(rng, a.stages[a.stages.length - 1].width));
        break;
      case 6:
        if (a.stages.length > NAS_STAGES.min) a.stages.pop();
        break;
    }
    const child = formatArch(a);
    if (child !== arch) return child;
  }
  // Every attempt was a no-op (practically impossible): flip the first stage's kind.
  const a: NasArch = { stem: parent.stem, stages: parent.stages.map((s) => ({ ...s })) };
  a.stages[0] =
    a.stages[0].block === 'conv'
      ? { ...a.stages[0], block: 'mb', expand: 4 }
      : { ...a.stages[0], block: 'conv', expand: 1 };
  return formatArch(a);
}

/** Output side of a 3x3 'same' layer with this stride. */
const down = (side: number, stride: number) => Math.ceil(side / stride);

/** Whether a stage starts with a stride-2 block at this side (never below 4 px). */
export function stageStride(side: number): number {
  return side >= 8 ? 2 : 1;
}

export interface ArchCost {
  /** Scalars in all weights of backbone + head (batch-norm moving statistics included). */
  params: number;
  /** Multiply-accumulates of one forward pass of one image. */
  macs: number;
}

/**
 * Parameters and multiply-accumulates of `nas_cnn` with this architecture, input and head (global
 * average pooling + dense softmax): counted, not measured, so they are exact and free. The same
 * layer plan as buildNasCnn (libs/ml zoo).
 */
export function archCost(
  arch: string,
  input: { height: number; width: number; channels: number },
  numClasses: number,
): ArchCost {
  const a = parseArch(arch);
  let h = input.height;
  let w = input.width;
  let c = input.channels;
  let params = 0;
  let macs = 0;
  const bn = (ch: number) => {
    params += 4 * ch;
  };
  const conv = (k: number, cin: number, cout: number, stride: number) => {
    h = down(h, stride);
    w = down(w, stride);
    params += k * k * cin * cout + cout;
    macs += h * w * k * k * cin * cout;
  };
  const depthwise = (ch: number, stride: number) => {
    h = down(h, stride);
    w = down(w, stride);
    params += 9 * ch + ch;
    macs += h * w * 9 * ch;
  };
  conv(3, c, a.stem, 1);
  bn(a.stem);
  c = a.stem;
  for (const s of a.stages) {
    for (let d = 0; d < s.depth; d++) {
      const stride = d === 0 ? stageStride(Math.min(h, w)) : 1;
      if (s.block === 'conv') {
        conv(3, c, s.width, stride);
        bn(s.width);
      } else {
        const hidden = c * s.expand;
        conv(1, c, hidden, 1);
        bn(hidden);
        depthwise(hidden, stride);
        bn(hidden);
        conv(1, hidden, s.width, 1);
        bn(s.width);
      }
      c = s.width;
    }
  }
  params += c * numClasses + numClasses;
  macs += c * numClasses;
  return { params, macs };
}
