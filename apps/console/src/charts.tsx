// Charts drawn as inline SVG (no chart library): each has a title and a text alternative.

export interface Series {
  name: string;
  points: { x: number; y: number }[];
  /** CSS class that sets the stroke colour (see styles.css). */
  tone: 'a' | 'b' | 'c' | 'd';
}

const W = 320;
const H = 180;
const PAD = { l: 40, r: 10, t: 10, b: 26 };

function scale(d0: number, d1: number, r0: number, r1: number) {
  const span = d1 - d0 || 1;
  return (v: number) => r0 + ((v - d0) / span) * (r1 - r0);
}

/** Lines over a shared x axis (epochs) with min/max ticks; `yRange` fixes the y axis (e.g. [0, 1]). */
export function LineChart({
  title,
  series,
  xLabel,
  yRange,
}: {
  title: string;
  series: Series[];
  xLabel: string;
  yRange?: [number, number];
}) {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return <p class="muted">{title}: no data yet.</p>;
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = yRange ?? [Math.min(...ys), Math.max(...ys)];
  const sx = scale(x0, x1 === x0 ? x0 + 1 : x1, PAD.l, W - PAD.r);
  const sy = scale(y0, y1 === y0 ? y0 + 1 : y1, H - PAD.b, PAD.t);
  const summary = series
    .filter((s) => s.points.length)
    .map((s) => `${s.name}: last ${s.points[s.points.length - 1].y.toFixed(3)}`)
    .join('; ');
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}. ${summary}`}>
        <line class="axis" x1={PAD.l} y1={H - PAD.b} x2={W - PAD.r} y2={H - PAD.b} />
        <line class="axis" x1={PAD.l} y1={PAD.t} x2={PAD.l} y2={H - PAD.b} />
        <text class="tick" x={PAD.l - 4} y={sy(y1) + 4} text-anchor="end">
          {y1.toFixed(2)}
        </text>
        <text class="tick" x={PAD.l - 4} y={sy(y0)} text-anchor="end">
          {y0.toFixed(2)}
        </text>
        <text class="tick" x={PAD.l} y={H - 8}>
          {x0}
        </text>
        <text class="tick" x={W - PAD.r} y={H - 8} text-anchor="end">
          {x1}
        </text>
        <text class="tick" x={(W + PAD.l) / 2} y={H - 8} text-anchor="middle">
          {xLabel}
        </text>
        {series.map((s) =>
          s.points.length === 1 ? (
            <circle
              key={s.name}
              class={`line tone-${s.tone}`}
              cx={sx(s.points[0].x)}
              cy={sy(s.points[0].y)}
              r={3}
            />
          ) : (
            <polyline
              key={s.name}
              class={`line tone-${s.tone}`}
              points={s.points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}
            />
          ),
        )}
      </svg>
      <figcaption>
        {title}:{' '}
        {series.map((s) => (
          <span key={s.name} class={`legend tone-${s.tone}`}>
            {s.name}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

/** `m[true][predicted]` as a table with cells shaded by their share of the row. */
export function ConfusionMatrix({ names, m }: { names: string[]; m: number[][] }) {
  return (
    <div class="scroll">
      <table class="confusion">
        <caption>Confusion matrix (rows: true class, columns: predicted class)</caption>
        <thead>
          <tr>
            <th scope="col">true \ predicted</th>
            {names.map((n) => (
              <th scope="col" key={n}>
                {n}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {m.map((row, i) => {
            const total = row.reduce((a, b) => a + b, 0) || 1;
            return (
              <tr key={names[i]}>
                <th scope="row">{names[i]}</th>
                {row.map((v, j) => (
                  <td
                    key={j}
                    class={`heat heat-${Math.min(4, Math.round((v / total) * 4))}${i === j ? ' diag' : ''}`}
                  >
                    {v}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export interface PrPoint {
  threshold: number;
  precision: number;
  recall: number;
}

/** A precision-recall curve with the point at `threshold` marked. */
export function PrChart({
  title,
  points,
  threshold,
}: {
  title: string;
  points: PrPoint[];
  threshold: number;
}) {
  if (points.length === 0) return <p class="muted">{title}: no curve.</p>;
  const sx = scale(0, 1, PAD.l, W - PAD.r);
  const sy = scale(0, 1, H - PAD.b, PAD.t);
  const at = pointAt(points, threshold);
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${title}. At threshold ${threshold.toFixed(2)}: precision ${at.precision.toFixed(3)}, recall ${at.recall.toFixed(3)}`}
      >
        <line class="axis" x1={PAD.l} y1={H - PAD.b} x2={W - PAD.r} y2={H - PAD.b} />
        <line class="axis" x1={PAD.l} y1={PAD.t} x2={PAD.l} y2={H - PAD.b} />
        <text class="tick" x={PAD.l - 4} y={PAD.t + 4} text-anchor="end">
          1
        </text>
        <text class="tick" x={PAD.l - 4} y={H - PAD.b} text-anchor="end">
          0
        </text>
        <text class="tick" x={(W + PAD.l) / 2} y={H - 8} text-anchor="middle">
          recall
        </text>
        <polyline
          class="line tone-a"
          points={points.map((p) => `${sx(p.recall).toFixed(1)},${sy(p.precision).toFixed(1)}`).join(' ')}
        />
        <circle class="marker" cx={sx(at.recall)} cy={sy(at.precision)} r={5} />
      </svg>
      <figcaption>{title} (precision against recall)</figcaption>
    </figure>
  );
}

/** The curve's point for "predict positive when score >= threshold": the lowest threshold still >= it. */
export function pointAt(points: PrPoint[], threshold: number): PrPoint {
  let best = points[0];
  for (const p of points) if (p.threshold >= threshold) best = p;
  return best;
}

export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  confidence: number;
  accuracy: number;
}

/** Reliability diagram: accuracy per confidence bin against the diagonal of perfect calibration. */
export function CalibrationChart({ bins, ece }: { bins: CalibrationBin[]; ece: number }) {
  const sx = scale(0, 1, PAD.l, W - PAD.r);
  const sy = scale(0, 1, H - PAD.b, PAD.t);
  const used = bins.filter((b) => b.count > 0);
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Calibration: expected calibration error ${ece.toFixed(3)}`}
      >
        <line class="axis" x1={PAD.l} y1={H - PAD.b} x2={W - PAD.r} y2={H - PAD.b} />
        <line class="axis" x1={PAD.l} y1={PAD.t} x2={PAD.l} y2={H - PAD.b} />
        <line class="diagonal" x1={sx(0)} y1={sy(0)} x2={sx(1)} y2={sy(1)} />
        {used.map((b) => (
          <rect
            key={b.lower}
            class="bar"
            x={sx(b.lower) + 1}
            width={Math.max(1, sx(b.upper) - sx(b.lower) - 2)}
            y={sy(b.accuracy)}
            height={sy(0) - sy(b.accuracy)}
          />
        ))}
        <text class="tick" x={(W + PAD.l) / 2} y={H - 8} text-anchor="middle">
          confidence
        </text>
        <text class="tick" x={PAD.l - 4} y={PAD.t + 4} text-anchor="end">
          1
        </text>
      </svg>
      <figcaption>Calibration (accuracy per confidence bin; ECE {ece.toFixed(3)})</figcaption>
    </figure>
  );
}
