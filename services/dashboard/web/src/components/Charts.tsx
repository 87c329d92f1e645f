import { useId, useMemo, useState, type PointerEvent } from "react";
import { domain, nearest, path, scale, ticks } from "../lib/chart";
import { metric } from "../lib/format";
import type { Point } from "../types";
import { LazyDetails } from "./Lazy";

interface Series {
  name: string;
  points: Point[];
  className: string; // the line's colour and dash (dashes tell lines apart without colour)
}

const W = 560;
const H = 220;
const M = { top: 12, right: 16, bottom: 40, left: 76 };

/** A line chart of one or more series over the training step, with hover values (and a
 * table of the same values for keyboard and screen-reader users). */
export function LineChart({ title, series, yLabel }: { title: string; series: Series[]; yLabel: string }) {
  const id = useId();
  const [hover, setHover] = useState<number | null>(null);
  const live = series.filter((s) => s.points.length > 0);
  const xd = useMemo(() => domain(live.flatMap((s) => s.points.map((p) => p.step))), [live]);
  const yd = useMemo(() => domain(live.flatMap((s) => s.points.map((p) => p.value))), [live]);
  if (live.length === 0) return null;
  const x = scale(xd, M.left, W - M.right);
  const y = scale(yd, H - M.bottom, M.top);
  const xs = ticks(xd, 5);
  const ys = ticks(yd, 4);

  const onMove = (e: PointerEvent<SVGSVGElement>) => {
    const box = e.currentTarget.getBoundingClientRect();
    const px = ((e.clientX - box.left) / box.width) * W;
    const step = xd.min + ((px - M.left) / (W - M.left - M.right)) * (xd.max - xd.min);
    setHover(step);
  };
  const at = hover === null ? [] : live.map((s) => ({ s, p: nearest(s.points, hover) }));
  const hoverStep = at.find((a) => a.p)?.p?.step;

  return (
    <figure className="chart" aria-labelledby={`${id}-cap`}>
      <figcaption id={`${id}-cap`}>
        <strong>{title}</strong>{" "}
        <span className="legend">
          {live.map((s) => (
            <span key={s.name} className={`key ${s.className}`}>
              <svg width="28" height="10" aria-hidden="true">
                <line x1="0" y1="5" x2="28" y2="5" />
              </svg>
              {s.name}
            </span>
          ))}
        </span>
      </figcaption>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${title}: ${live.map((s) => `${s.name}, ${s.points.length} points, last ${metric(s.points[s.points.length - 1]?.value)}`).join("; ")}`}
        onPointerMove={onMove}
        onPointerLeave={() => setHover(null)}
      >
        {ys.map((t) => (
          <g key={`y${t}`} className="grid">
            <line x1={M.left} x2={W - M.right} y1={y(t)} y2={y(t)} />
            <text x={M.left - 6} y={y(t) + 4} textAnchor="end">
              {tick(t)}
            </text>
          </g>
        ))}
        {xs.map((t) => (
          <g key={`x${t}`} className="grid">
            <text x={x(t)} y={H - M.bottom + 16} textAnchor="middle">
              {metric(t)}
            </text>
          </g>
        ))}
        <text className="axis-title" x={(M.left + W - M.right) / 2} y={H - 6} textAnchor="middle">
          step
        </text>
        <text className="axis-title" transform={`translate(14 ${(M.top + H - M.bottom) / 2}) rotate(-90)`} textAnchor="middle">
          {yLabel}
        </text>
        {live.map((s) => (
          <path key={s.name} className={`line ${s.className}`} d={path(s.points, x, y)} />
        ))}
        {hoverStep !== undefined ? (
          <g className="hover">
            <line x1={x(hoverStep)} x2={x(hoverStep)} y1={M.top} y2={H - M.bottom} />
            {at.map(({ s, p }) => (p ? <circle key={s.name} className={s.className} cx={x(p.step)} cy={y(p.value)} r={4} /> : null))}
          </g>
        ) : null}
      </svg>
      <p className="hover-values small" aria-live="off">
        {hoverStep !== undefined
          ? `step ${metric(hoverStep)}: ${at.map(({ s, p }) => `${s.name} ${p ? metric(p.value) : "—"}${p && p.step !== hoverStep ? ` (at step ${metric(p.step)})` : ""}`).join(", ")}`
          : "Hover over the chart for values."}
      </p>
      <LazyDetails summary="Values as a table">
        {() => (
        <div className="table-wrap short">
          <table className="compact">
            <thead>
              <tr>
                <th scope="col">Series</th>
                <th scope="col">Step</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {live.flatMap((s) =>
                s.points.slice(0, 500).map((p) => (
                  <tr key={`${s.name}-${p.step}`}>
                    <td>{s.name}</td>
                    <td className="num">{p.step}</td>
                    <td className="num">{metric(p.value)}</td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </div>
        )}
      </LazyDetails>
    </figure>
  );
}

/** An axis label: short (4e-5, 0.25, 1,500). */
function tick(v: number): string {
  const a = Math.abs(v);
  if (v !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(1).replace(".0e", "e");
  return metric(v);
}

export function MetricsPanel({ series }: { series: Record<string, Point[]> | null }) {
  if (series === null) return <p className="muted">Loading metrics…</p>;
  const names = Object.keys(series);
  if (names.length === 0) return <p className="muted">No metric was logged.</p>;
  const pick = (n: string) => series[n] ?? [];
  const others = names.filter((n) => !["loss", "eval_loss", "learning_rate"].includes(n));
  return (
    <div className="charts">
      <LineChart
        title="Loss"
        yLabel="loss"
        series={[
          { name: "loss", points: pick("loss"), className: "c1" },
          { name: "eval_loss", points: pick("eval_loss"), className: "c2" },
        ]}
      />
      <LineChart title="Learning rate" yLabel="learning rate" series={[{ name: "learning_rate", points: pick("learning_rate"), className: "c3" }]} />
      {others.length > 0 ? (
        <LazyDetails summary={`Other metrics (${others.length})`}>
          {() => others.map((n) => <LineChart key={n} title={n} yLabel={n} series={[{ name: n, points: pick(n), className: "c1" }]} />)}
        </LazyDetails>
      ) : null}
    </div>
  );
}
