// Monthly trend charts for the measures page, drawn as inline SVG (no library, no CDN): bars for
// the rates against their goal, lines for the median times against their benchmark. Each chart
// carries a <title>/<desc> summary and sits beside a data table that a button reveals, so a
// screen reader (and a printed report) gets the same numbers as the picture.

const SVG = "http://www.w3.org/2000/svg";
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const W = 640;
const H = 260;
const M = { left: 52, right: 78, top: 18, bottom: 46 };
const PLOT_W = W - M.left - M.right;
const PLOT_H = H - M.top - M.bottom;

let serial = 0;

export function monthLabel(month) {
  const [year, mm] = month.split("-");
  return `${MONTHS[Number(mm) - 1]} ${year}`;
}

function shortMonth(month) {
  const [year, mm] = month.split("-");
  return `${MONTHS[Number(mm) - 1]} ${year.slice(2)}`;
}

export function fmtPercent(p) { return p == null ? "—" : `${p.toFixed(1)} %`; }
export function fmtSeconds(v) { return v == null ? "—" : `${Number(v.toFixed(1))} s`; }

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text != null) node.textContent = text;
  return node;
}

function html(name, attrs = {}, text) {
  const node = document.createElement(name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text != null) node.textContent = text;
  return node;
}

// A step of 1, 2 or 5 times a power of ten giving about `count` ticks up to `max`.
function niceStep(max, count) {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  return step;
}

function frame(svg, months, ticks, yOf, unit, axisLabel) {
  const band = PLOT_W / Math.max(months.length, 1);
  const every = Math.ceil(months.length / 12);
  const grid = el("g", { class: "axis y-axis" });
  for (const t of ticks) {
    const y = yOf(t);
    grid.append(el("line", { class: "grid", x1: M.left, x2: W - M.right, y1: y, y2: y }));
    grid.append(el("text", { x: M.left - 6, y: y + 4, "text-anchor": "end" }, `${t}${unit}`));
  }
  grid.append(el("text", {
    class: "axis-label", x: 12, y: M.top + PLOT_H / 2, "text-anchor": "middle",
    transform: `rotate(-90 12 ${M.top + PLOT_H / 2})`,
  }, axisLabel));
  const xAxis = el("g", { class: "axis x-axis" });
  xAxis.append(el("line", { class: "baseline", x1: M.left, x2: W - M.right, y1: M.top + PLOT_H, y2: M.top + PLOT_H }));
  months.forEach((m, i) => {
    const x = M.left + band * (i + 0.5);
    xAxis.append(el("line", { class: "tick", x1: x, x2: x, y1: M.top + PLOT_H, y2: M.top + PLOT_H + 4 }));
    if (i % every === 0) {
      xAxis.append(el("text", { class: "month-tick", x, y: M.top + PLOT_H + 17, "text-anchor": "middle" }, shortMonth(m.month)));
    }
  });
  xAxis.append(el("text", { class: "axis-label", x: M.left + PLOT_W / 2, y: H - 6, "text-anchor": "middle" }, "month (agency local time)"));
  svg.append(grid, xAxis);
  return band;
}

function targetLine(svg, y, word, value) {
  svg.append(el("line", { class: "goal", x1: M.left, x2: W - M.right, y1: y, y2: y }));
  // Labelled in the right margin, clear of the bars and points.
  const label = el("text", { class: "goal-label", x: W - M.right + 6, y: y - 2 });
  label.append(el("tspan", { x: W - M.right + 6 }, word), el("tspan", { x: W - M.right + 6, dy: 13 }, value));
  svg.append(label);
}

function shell(spec) {
  serial += 1;
  const id = `chart-${spec.key}-${serial}`;
  const svg = el("svg", {
    viewBox: `0 0 ${W} ${H}`, role: "img", class: `chart ${spec.kind}`,
    "aria-labelledby": `${id}-title ${id}-desc`, "data-measure": spec.key,
  });
  svg.append(el("title", { id: `${id}-title` }, spec.title), el("desc", { id: `${id}-desc` }, spec.desc));
  return { id, svg };
}

// Bars for one rate per month: height proportional to the percent on a 0-100 scale.
export function rateChart(months, spec) {
  const valueOf = (m) => m[spec.key]?.percent ?? null;
  const { id, svg } = shell({ ...spec, kind: "rate", desc: describe(months, valueOf, spec, fmtPercent) });
  const yOf = (v) => M.top + PLOT_H - (v / 100) * PLOT_H;
  const band = frame(svg, months, [0, 25, 50, 75, 100], yOf, " %", "percent of calls");
  const bars = el("g", { class: "bars" });
  months.forEach((m, i) => {
    const v = valueOf(m);
    const g = el("g", { class: "month", "data-month": m.month });
    const x = M.left + band * i + band * 0.15;
    if (v == null) {
      g.append(el("text", { class: "nodata", x: x + band * 0.35, y: M.top + PLOT_H - 4, "text-anchor": "middle" }, "–"));
      g.append(el("title", {}, `${monthLabel(m.month)}: no calls in the denominator`));
    } else {
      const r = m[spec.key];
      const rect = el("rect", {
        class: `bar ${v >= spec.goal ? "met" : "missed"}`, x, y: yOf(v), width: band * 0.7,
        height: (v / 100) * PLOT_H, "data-value": v,
      });
      rect.append(el("title", {}, `${monthLabel(m.month)}: ${fmtPercent(v)} (${r.numerator} of ${r.denominator})`));
      g.append(rect);
    }
    bars.append(g);
  });
  svg.append(bars);
  targetLine(svg, yOf(spec.goal), "goal", `${spec.goal} %`);
  return wrap(id, svg, spec, months, [
    ["Month", (m) => monthLabel(m.month)],
    ["Rate", (m) => fmtPercent(valueOf(m))],
    ["Numerator", (m) => m[spec.key]?.numerator ?? 0],
    ["Denominator", (m) => m[spec.key]?.denominator ?? 0],
  ]);
}

// A line through each month's median (broken where a month has none), against the benchmark.
export function medianChart(months, spec) {
  const valueOf = (m) => m[spec.key]?.value ?? null;
  const { id, svg } = shell({ ...spec, kind: "median", desc: describe(months, valueOf, spec, fmtSeconds) });
  const highest = Math.max(spec.goal * 1.3, ...months.map(valueOf).filter((v) => v != null).map((v) => v * 1.1));
  const step = niceStep(highest, 5);
  const top = Math.ceil(highest / step) * step;
  const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
  const yOf = (v) => M.top + PLOT_H - (v / top) * PLOT_H;
  svg.dataset.top = String(top);
  const band = frame(svg, months, ticks, yOf, " s", "seconds from T0");
  targetLine(svg, yOf(spec.goal), "benchmark", `${spec.goal} s`);
  let d = "";
  let pen = false;
  const points = el("g", { class: "points" });
  months.forEach((m, i) => {
    const v = valueOf(m);
    const x = M.left + band * (i + 0.5);
    const g = el("g", { class: "month", "data-month": m.month });
    if (v == null) {
      pen = false;
      g.append(el("text", { class: "nodata", x, y: M.top + PLOT_H - 4, "text-anchor": "middle" }, "–"));
      g.append(el("title", {}, `${monthLabel(m.month)}: no calls`));
    } else {
      d += `${pen ? "L" : "M"}${x.toFixed(1)},${yOf(v).toFixed(1)}`;
      pen = true;
      const dot = el("circle", { class: `point ${v < spec.goal ? "met" : "missed"}`, cx: x, cy: yOf(v), r: 4, "data-value": v });
      dot.append(el("title", {}, `${monthLabel(m.month)}: ${fmtSeconds(v)} (n = ${m[spec.key].n})`));
      g.append(dot);
    }
    points.append(g);
  });
  svg.append(el("path", { class: "line", d }), points);
  return wrap(id, svg, spec, months, [
    ["Month", (m) => monthLabel(m.month)],
    ["Median", (m) => fmtSeconds(valueOf(m))],
    ["Calls (n)", (m) => m[spec.key]?.n ?? 0],
  ]);
}

function describe(months, valueOf, spec, fmt) {
  if (!months.length) return `${spec.title}: no months in the period.`;
  const span = `${monthLabel(months[0].month)} to ${monthLabel(months[months.length - 1].month)}`;
  const known = months.filter((m) => valueOf(m) != null);
  if (!known.length) return `${spec.title}, ${span}: no month has calls to measure.`;
  const best = known.reduce((a, b) => (valueOf(b) > valueOf(a) ? b : a));
  const worst = known.reduce((a, b) => (valueOf(b) < valueOf(a) ? b : a));
  const met = known.filter((m) => (spec.lowerIsBetter ? valueOf(m) < spec.goal : valueOf(m) >= spec.goal)).length;
  return `${spec.title}, ${span}. ${known.length} of ${months.length} months have calls. ` +
    `Highest ${fmt(valueOf(best))} (${monthLabel(best.month)}), lowest ${fmt(valueOf(worst))} (${monthLabel(worst.month)}). ` +
    `${spec.lowerIsBetter ? "Under the benchmark" : "At or above the goal"} of ${fmt(spec.goal)} in ${met} months.`;
}

function wrap(id, svg, spec, months, columns) {
  const figure = html("figure", { class: "chart-figure", "data-measure": spec.key });
  figure.append(html("figcaption", {}, spec.title), svg);
  const table = html("table", { id: `${id}-table`, class: "chart-data" });
  table.hidden = true;
  table.append(html("caption", {}, `Data: ${spec.title}`));
  const head = html("tr");
  for (const [label] of columns) head.append(html("th", { scope: "col" }, label));
  const thead = html("thead");
  thead.append(head);
  table.append(thead);
  const body = html("tbody");
  for (const m of months) {
    const tr = html("tr");
    columns.forEach(([, value], i) => tr.append(html(i ? "td" : "th", i ? {} : { scope: "row" }, value(m))));
    body.append(tr);
  }
  table.append(body);
  const toggle = html("button", { type: "button", class: "table-toggle", "aria-expanded": "false", "aria-controls": table.id }, "Show data table");
  toggle.addEventListener("click", () => {
    table.hidden = !table.hidden;
    toggle.setAttribute("aria-expanded", String(!table.hidden));
    toggle.textContent = table.hidden ? "Show data table" : "Hide data table";
  });
  figure.append(toggle, table);
  return figure;
}
