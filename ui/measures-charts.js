// Monthly trend charts for the measures page, drawn as inline SVG (no library, no CDN): bars for
// the rates against their goal (with the service's p-chart control limits where it gives them),
// lines for the median times against their benchmark, and funnel plots of a rate over
// telecommunicators or agencies. The monthly charts mark where a protocol version took effect
// (`spec.changes`), so a medical director sees whether it moved the measure. Each chart carries a <title>/<desc> summary and sits beside a
// data table that a button reveals, so a screen reader (and a printed report) gets the same
// numbers as the picture. Every number drawn comes from the service; here is only layout.

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

// Bars for one rate per month: height proportional to the percent on a 0-100 scale. With
// `spec.control` (the trend's control_limits for this rate) each month with a denominator gets
// its p-chart limits as a light band with caps, the centre line is drawn, and a month outside
// its limits is outlined and labelled as a signal.
export function rateChart(months, spec) {
  const valueOf = (m) => m[spec.key]?.percent ?? null;
  const control = spec.control && spec.control.center != null ? spec.control : null;
  const limitOf = new Map((control?.months || []).map((l) => [l.month, l]));
  const changes = changesIn(months, spec.changes);
  const { id, svg } = shell({ ...spec, kind: "rate", desc: describe(months, valueOf, spec, fmtPercent, limitOf) + describeChanges(changes) });
  const yOf = (v) => M.top + PLOT_H - (v / 100) * PLOT_H;
  const band = frame(svg, months, [0, 25, 50, 75, 100], yOf, " %", "percent of calls");
  if (control) {
    const bands = el("g", { class: "control-limits" });
    months.forEach((m, i) => {
      const l = limitOf.get(m.month);
      if (!l) return;
      const rect = el("rect", {
        class: "limits", x: M.left + band * i + band * 0.06, y: yOf(l.upper), width: band * 0.88,
        height: Math.max(yOf(l.lower) - yOf(l.upper), 0.5), "data-month": m.month, "data-lower": l.lower, "data-upper": l.upper,
      });
      rect.append(el("title", {}, `${monthLabel(m.month)}: control limits ${limitText(l)} for ${l.n} ${l.n === 1 ? "call" : "calls"}`));
      bands.append(rect);
    });
    svg.append(bands);
  }
  const bars = el("g", { class: "bars" });
  months.forEach((m, i) => {
    const v = valueOf(m);
    const l = limitOf.get(m.month);
    const g = el("g", { class: `month${l?.outside ? " outside" : ""}`, "data-month": m.month });
    const x = M.left + band * i + band * 0.15;
    if (v == null) {
      g.append(el("text", { class: "nodata", x: x + band * 0.35, y: M.top + PLOT_H - 4, "text-anchor": "middle" }, "–"));
      g.append(el("title", {}, `${monthLabel(m.month)}: no calls in the denominator`));
    } else {
      const r = m[spec.key];
      const rect = el("rect", {
        class: `bar ${v >= spec.goal ? "met" : "missed"}${l?.outside ? " outside" : ""}`, x, y: yOf(v), width: band * 0.7,
        height: (v / 100) * PLOT_H, "data-value": v,
      });
      let text = `${monthLabel(m.month)}: ${fmtPercent(v)} (${r.numerator} of ${r.denominator})`;
      if (l) text += `; control limits ${limitText(l)}${l.outside ? ": outside them, a signal" : ": inside them, noise"}`;
      rect.append(el("title", {}, text));
      g.append(rect);
    }
    bars.append(g);
  });
  svg.append(bars);
  if (control) {
    // The caps on top of the bars, so a limit inside a bar still shows.
    const caps = el("g", { class: "control-caps" });
    months.forEach((m, i) => {
      const l = limitOf.get(m.month);
      if (!l) return;
      const x1 = M.left + band * i + band * 0.06;
      const x2 = x1 + band * 0.88;
      caps.append(el("line", { class: "limit-cap", x1, x2, y1: yOf(l.upper), y2: yOf(l.upper) }));
      caps.append(el("line", { class: "limit-cap", x1, x2, y1: yOf(l.lower), y2: yOf(l.lower) }));
      const v = valueOf(m);
      if (l.outside && v != null) {
        // A diamond on the month's value (a 0 % bar has no outline to see) and the word above it.
        const cx = M.left + band * (i + 0.5);
        const cy = yOf(v);
        caps.append(el("path", { class: "signal-mark", d: `M${cx},${cy - 7}L${cx + 7},${cy}L${cx},${cy + 7}L${cx - 7},${cy}Z` }));
        caps.append(el("text", { class: "signal", x: cx, y: Math.max(cy - 11, 11), "text-anchor": "middle" }, "signal"));
      }
    });
    const center = el("line", { class: "center", x1: M.left, x2: W - M.right, y1: yOf(control.center), y2: yOf(control.center), "data-value": control.center });
    center.append(el("title", {}, `Centre line: the period's pooled rate, ${fmtPercent(control.center)}`));
    svg.append(center, caps);
  }
  targetLine(svg, yOf(spec.goal), "goal", `${spec.goal} %`);
  protocolMarks(svg, months, band, changes);
  const columns = [
    ["Month", (m) => monthLabel(m.month)],
    ["Rate", (m) => fmtPercent(valueOf(m))],
    ["Numerator", (m) => m[spec.key]?.numerator ?? 0],
    ["Denominator", (m) => m[spec.key]?.denominator ?? 0],
  ];
  if (control) {
    columns.push(
      ["Lower limit", (m) => (limitOf.has(m.month) ? fmtPercent(limitOf.get(m.month).lower) : "—")],
      ["Upper limit", (m) => (limitOf.has(m.month) ? fmtPercent(limitOf.get(m.month).upper) : "—")],
      ["Signal", (m) => (!limitOf.has(m.month) ? "—" : limitOf.get(m.month).outside ? "outside" : "inside")],
    );
  }
  const figure = wrap(id, svg, spec, months, withChangeColumn(columns, changes));
  figure.querySelector("svg").after(...[control ? controlLegend(control) : null, changes.length ? changeLegend() : null].filter(Boolean));
  return figure;
}

function limitText(l) { return `${fmtPercent(l.lower)} to ${fmtPercent(l.upper)}`; }

function swatch(cls) { return html("span", { class: `swatch ${cls}`, "aria-hidden": "true" }); }

function controlLegend(control) {
  const legend = html("p", { class: "chart-legend" });
  legend.append(
    swatch("limits"), ` limits: ${control.sigmas} standard errors for that month's number of arrests; a month outside them is a signal, inside is noise. `,
    swatch("center"), ` centre ${fmtPercent(control.center)} (the period's pooled rate). `,
    swatch("signal"), " outside: a signal.",
  );
  return legend;
}

// A line through each month's median (broken where a month has none), against the benchmark.
export function medianChart(months, spec) {
  const valueOf = (m) => m[spec.key]?.value ?? null;
  const changes = changesIn(months, spec.changes);
  const { id, svg } = shell({ ...spec, kind: "median", desc: describe(months, valueOf, spec, fmtSeconds) + describeChanges(changes) });
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
  // Under the line and its points, so a mark mid-month never hides that month's median.
  protocolMarks(svg, months, band, changes);
  svg.append(el("path", { class: "line", d }), points);
  const figure = wrap(id, svg, spec, months, withChangeColumn([
    ["Month", (m) => monthLabel(m.month)],
    ["Median", (m) => fmtSeconds(valueOf(m))],
    ["Calls (n)", (m) => m[spec.key]?.n ?? 0],
  ], changes));
  if (changes.length) figure.querySelector("svg").after(changeLegend());
  return figure;
}

// ---- protocol changes ------------------------------------------------------------------------

// The changes (`{month, fraction, label, title, when}`: `fraction` of the month gone when the
// version took effect, in the agency's own zone) that fall inside the charted months.
function changesIn(months, changes) {
  const charted = new Set(months.map((m) => m.month));
  return (changes || []).filter((c) => charted.has(c.month));
}

// A dashed vertical line where each version took effect, labelled id@version at its top; labels
// that would collide drop a line.
function protocolMarks(svg, months, band, changes) {
  if (!changes.length) return;
  const index = new Map(months.map((m, i) => [m.month, i]));
  const group = el("g", { class: "protocol-changes" });
  const placed = [];
  for (const c of changes) {
    const x = M.left + band * (index.get(c.month) + Math.min(Math.max(c.fraction, 0), 1));
    const width = c.label.length * 6.2 + 6;
    const leftward = x + 4 + width > W - 4;
    const left = leftward ? x - 4 - width : x + 4;
    let y = M.top - 5;
    while (placed.some((b) => b.y === y && left < b.left + b.width && b.left < left + width)) y += 13;
    placed.push({ left, width, y });
    const g = el("g", { class: "protocol-change", "data-month": c.month, "data-protocol": c.protocol });
    g.append(
      // A white halo under the dashed line keeps it visible across a bar.
      el("line", { class: "protocol-halo", x1: x, x2: x, y1: M.top - 2, y2: M.top + PLOT_H }),
      el("line", { class: "protocol-line", x1: x, x2: x, y1: M.top - 2, y2: M.top + PLOT_H }),
      el("path", { class: "protocol-flag", d: `M${x},${M.top - 2}l-4,-6h8z` }),
      el("text", { class: "protocol-label", x: leftward ? x - 4 : x + 4, y, "text-anchor": leftward ? "end" : "start" }, c.label),
      el("title", {}, c.title),
    );
    group.append(g);
  }
  svg.append(group);
}

function describeChanges(changes) {
  if (!changes.length) return "";
  return ` Protocol versions taking effect: ${changes.map((c) => `${c.label} on ${c.when}`).join("; ")}.`;
}

function withChangeColumn(columns, changes) {
  if (!changes.length) return columns;
  const of = (m) => changes.filter((c) => c.month === m.month).map((c) => `${c.label} from ${c.when}`).join("; ") || "—";
  return [...columns, ["Protocol version taking effect", of]];
}

function changeLegend() {
  const legend = html("p", { class: "chart-legend protocol-legend" });
  legend.append(swatch("protocol"), " a protocol version took effect (id@version): compare the months before it with those after.");
  return legend;
}

function describe(months, valueOf, spec, fmt, limitOf) {
  if (!months.length) return `${spec.title}: no months in the period.`;
  const span = `${monthLabel(months[0].month)} to ${monthLabel(months[months.length - 1].month)}`;
  const known = months.filter((m) => valueOf(m) != null);
  if (!known.length) return `${spec.title}, ${span}: no month has calls to measure.`;
  const best = known.reduce((a, b) => (valueOf(b) > valueOf(a) ? b : a));
  const worst = known.reduce((a, b) => (valueOf(b) < valueOf(a) ? b : a));
  const met = known.filter((m) => (spec.lowerIsBetter ? valueOf(m) < spec.goal : valueOf(m) >= spec.goal)).length;
  return `${spec.title}, ${span}. ${known.length} of ${months.length} months have calls. ` +
    `Highest ${fmt(valueOf(best))} (${monthLabel(best.month)}), lowest ${fmt(valueOf(worst))} (${monthLabel(worst.month)}). ` +
    `${spec.lowerIsBetter ? "Under the benchmark" : "At or above the goal"} of ${fmt(spec.goal)} in ${met} months.` +
    signals(months, limitOf);
}

function signals(months, limitOf) {
  if (!limitOf || !limitOf.size) return "";
  const outside = months.filter((m) => limitOf.get(m.month)?.outside).map((m) => monthLabel(m.month));
  return outside.length
    ? ` Outside the control limits (a signal): ${outside.join(", ")}.`
    : " Every month lies inside its control limits (noise, not a signal).";
}

function wrap(id, svg, spec, rows, columns) {
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
  for (const m of rows) {
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

// ---- funnel plots ---------------------------------------------------------------------------

const FH = 300;
const FPLOT_H = FH - M.top - M.bottom;

// A funnel plot of one rate over units of very different volumes (the service's `funnel`):
// x is each unit's number of calls in the denominator, y its percent; the centre line is the
// pooled rate, the 95 % (dashed) and 99.8 % (solid, shaded between) limits narrow as n grows,
// and a unit outside the 99.8 % limits is marked. `spec`: key, title, unit ("telecommunicator"
// or "agency"), nameOf (a point's name as shown).
export function funnelChart(funnel, spec) {
  serial += 1;
  const id = `funnel-${spec.key}-${serial}`;
  const points = funnel.points || [];
  const nameOf = spec.nameOf || ((p) => p.name);
  const svg = el("svg", {
    viewBox: `0 0 ${W} ${FH}`, role: "img", class: "funnel",
    "aria-labelledby": `${id}-title ${id}-desc`, "data-funnel": spec.key,
  });
  svg.append(el("title", { id: `${id}-title` }, spec.title), el("desc", { id: `${id}-desc` }, describeFunnel(funnel, spec, nameOf)));
  const largest = Math.max(1, ...points.map((p) => p.n), ...(funnel.limits || []).map((l) => l.n));
  const step = niceStep(largest, 5);
  const right = Math.ceil(largest / step) * step;
  const xOf = (n) => M.left + (n / right) * PLOT_W;
  const yOf = (v) => M.top + FPLOT_H - (v / 100) * FPLOT_H;
  const axes = el("g", { class: "axis" });
  for (const t of [0, 25, 50, 75, 100]) {
    axes.append(el("line", { class: "grid", x1: M.left, x2: W - M.right, y1: yOf(t), y2: yOf(t) }));
    axes.append(el("text", { x: M.left - 6, y: yOf(t) + 4, "text-anchor": "end" }, `${t} %`));
  }
  axes.append(el("line", { class: "baseline", x1: M.left, x2: W - M.right, y1: yOf(0), y2: yOf(0) }));
  for (let n = 0; n <= right + step / 2; n += step) {
    axes.append(el("line", { class: "tick", x1: xOf(n), x2: xOf(n), y1: yOf(0), y2: yOf(0) + 4 }));
    axes.append(el("text", { class: "x-tick", x: xOf(n), y: yOf(0) + 17, "text-anchor": "middle", "data-n": n }, String(n)));
  }
  axes.append(el("text", {
    class: "axis-label", x: 12, y: M.top + FPLOT_H / 2, "text-anchor": "middle",
    transform: `rotate(-90 12 ${M.top + FPLOT_H / 2})`,
  }, "percent"));
  axes.append(el("text", { class: "axis-label", x: M.left + PLOT_W / 2, y: FH - 6, "text-anchor": "middle" }, `calls in the denominator (n), per ${spec.unit}`));
  svg.append(axes);
  if (funnel.center == null || !points.length) {
    svg.append(el("text", { class: "nodata", x: M.left + PLOT_W / 2, y: M.top + FPLOT_H / 2, "text-anchor": "middle" }, `no ${spec.unit} has calls to plot`));
    const bare = html("figure", { class: "chart-figure funnel-figure", "data-funnel": spec.key });
    bare.append(html("figcaption", {}, spec.title), svg);
    return bare;
  }
  const limits = funnel.limits || [];
  const path = (key) => limits.map((l, i) => `${i ? "L" : "M"}${xOf(l.n).toFixed(1)},${yOf(l[key]).toFixed(1)}`).join("");
  if (limits.length) {
    const upper = limits.map((l, i) => `${i ? "L" : "M"}${xOf(l.n).toFixed(1)},${yOf(l["upper_99.8"]).toFixed(1)}`).join("");
    const lower = [...limits].reverse().map((l) => `L${xOf(l.n).toFixed(1)},${yOf(l["lower_99.8"]).toFixed(1)}`).join("");
    svg.append(el("path", { class: "funnel-band", d: `${upper}${lower}Z` }));
    for (const [key, cls] of [["upper_99.8", "limit-998"], ["lower_99.8", "limit-998"], ["upper_95", "limit-95"], ["lower_95", "limit-95"]]) {
      svg.append(el("path", { class: `funnel-limit ${cls}`, d: path(key), "data-limit": key }));
    }
  }
  const center = el("line", { class: "center", x1: M.left, x2: W - M.right, y1: yOf(funnel.center), y2: yOf(funnel.center), "data-value": funnel.center });
  center.append(el("title", {}, `Centre line: the pooled rate, ${fmtPercent(funnel.center)}`));
  svg.append(center);
  // Labels beside their dots, moved down a line where one would overlap another.
  const placed = [];
  const dots = el("g", { class: "funnel-points" });
  const ordered = [...points].sort((a, b) => (b.percent ?? 0) - (a.percent ?? 0) || a.n - b.n);
  for (const p of ordered) {
    const cx = xOf(p.n);
    const cy = yOf(p.percent ?? 0);
    const name = nameOf(p);
    const g = el("g", { class: `funnel-unit${p.outside_99_8 ? " outside" : ""}`, "data-name": p.name ?? "" });
    const dot = el("circle", {
      class: `funnel-point${p.outside_99_8 ? " outside" : ""}`, cx, cy, r: p.outside_99_8 ? 6 : 5,
      "data-n": p.n, "data-percent": p.percent, "data-outside": String(Boolean(p.outside_99_8)),
    });
    dot.append(el("title", {}, `${name}: ${fmtPercent(p.percent)} (${p.numerator} of ${p.n})${p.outside_99_8 ? ", outside the 99.8 % limits: a signal worth a look" : ", inside the 99.8 % limits"}`));
    const width = name.length * 6.3 + 4;
    const leftward = cx + 9 + width > W - 4;
    let x = leftward ? cx - 9 - width : cx + 9;
    let y = cy + 4;
    while (placed.some((b) => Math.abs(b.y - y) < 12 && x < b.x + b.width && b.x < x + width)) y += 12;
    placed.push({ x, y, width });
    g.append(dot, el("text", { class: "funnel-label", x: leftward ? x + width : x, y, "text-anchor": leftward ? "end" : "start" }, name));
    dots.append(g);
  }
  svg.append(dots);
  const figure = wrap(id, svg, spec, points, [
    [spec.unit[0].toUpperCase() + spec.unit.slice(1), (p) => nameOf(p)],
    ["n", (p) => p.n],
    ["Numerator", (p) => p.numerator],
    ["Rate", (p) => fmtPercent(p.percent)],
    ["Against the 99.8 % limits", (p) => (p.outside_99_8 ? "outside: a signal" : "inside")],
  ]);
  const legend = html("p", { class: "chart-legend" });
  legend.append(
    swatch("point"), ` one ${spec.unit}. `,
    swatch("center"), ` centre ${fmtPercent(funnel.center)} (the pooled rate). `,
    swatch("limit-95"), " 95 % and ", swatch("limit-998"), " 99.8 % limits, narrower as n grows. ",
    swatch("outside"), " outside the 99.8 % limits: a signal; inside is noise.",
  );
  figure.querySelector("svg").after(legend);
  // A funnel's figure is not one of the monthly charts: named by data-funnel, not data-measure.
  figure.removeAttribute("data-measure");
  figure.setAttribute("data-funnel", spec.key);
  figure.classList.add("funnel-figure");
  return figure;
}

function describeFunnel(funnel, spec, nameOf) {
  const points = funnel.points || [];
  if (funnel.center == null || !points.length) return `${spec.title}: no ${spec.unit} has calls to plot.`;
  const outside = points.filter((p) => p.outside_99_8).map((p) => `${nameOf(p)} (${fmtPercent(p.percent)} of ${p.n})`);
  return `${spec.title}: ${points.length} ${spec.unit === "agency" ? (points.length === 1 ? "agency" : "agencies") : `${spec.unit}${points.length === 1 ? "" : "s"}`} around a pooled rate of ${fmtPercent(funnel.center)}. ` +
    (outside.length ? `Outside the 99.8 % limits: ${outside.join(", ")}.` : "Every one lies inside the 99.8 % limits.");
}
