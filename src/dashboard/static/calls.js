/* global window, document, URLSearchParams */
// Calls: per service and method, the window's figures in a table, and for
// the selected row two uPlot time series over the last 15 minutes — calls
// per second by status code, and p50/p90/p99 latency.
import { api, codeBadge, el, fmtMs, fmtRate, isErrorCode, setRows, td } from "./util.js";

const CODE_COLORS = { OK: "#2da44e" };
const ERROR_PALETTE = ["#cf222e", "#bc4c00", "#8250df", "#bf3989", "#953800", "#a40e26"];

export function createCallsView() {
  let rows = [];
  let selected;
  const charts = { rate: undefined, latency: undefined, rateShape: "" };

  function keyOf(r) {
    return `${r.service}\u0000${r.side}\u0000${r.operation}`;
  }

  function renderTable() {
    const tbody = document.querySelector("#call-table tbody");
    setRows(tbody, rows.map((r) => {
      const tr = el("tr", { class: keyOf(r) === selected ? "selected" : undefined, onclick: () => select(keyOf(r)) },
        td(r.service), td(r.side), td(r.operation), td(String(r.count), true), td(fmtRate(r.ratePerSec), true),
        td(Object.entries(r.codes).sort((a, b) => b[1] - a[1]).map(([c, n]) => codeBadge(c, n))),
        td(fmtMs(r.p50Ms), true), td(fmtMs(r.p90Ms), true), td(fmtMs(r.p99Ms), true));
      return tr;
    }));
    document.getElementById("calls-empty").hidden = rows.length > 0;
  }

  async function select(key) {
    selected = key;
    renderTable();
    await renderCharts();
  }

  async function renderCharts() {
    const row = rows.find((r) => keyOf(r) === selected);
    if (row === undefined) return;
    document.getElementById("chart-title").textContent = `${row.service} · ${row.side} · ${row.operation}`;
    const q = new URLSearchParams({ service: row.service, side: row.side, operation: row.operation });
    const { bucketMs, points } = await api(`/api/calls/series?${q}`);
    const { codes, raw, rateData, latencyData } = chartData(points, bucketMs);
    const shape = `${selected}|${codes.join(",")}`;
    if (charts.rateShape !== shape) {
      charts.rate?.destroy();
      charts.latency?.destroy();
      charts.rate = makeChart("chart-rate", rateSeries(codes, charts), rateData, "calls/s");
      charts.latency = makeChart("chart-latency", latencySeries(), latencyData, "ms");
      charts.rateShape = shape;
      charts.raw = raw;
    } else {
      charts.raw = raw;
      charts.rate.setData(rateData);
      charts.latency.setData(latencyData);
    }
  }

  return {
    show() {},
    hide() {},
    async refresh() {
      rows = await api("/api/calls");
      if (selected === undefined || !rows.some((r) => keyOf(r) === selected)) selected = rows[0] === undefined ? undefined : keyOf(rows[0]);
      renderTable();
      await renderCharts();
    },
  };
}

/**
 * The two charts' data from the series points: status codes (OK first),
 * each code's rate per bucket (`raw`), the stacked rate series (top layer
 * first) and the latency percentiles.
 */
function chartData(points, bucketMs) {
  const xs = points.map((p) => p.startMs / 1000);
  const codes = [...new Set(points.flatMap((p) => Object.keys(p.codes)))].sort((a, b) => (a === "OK" ? -1 : b === "OK" ? 1 : a.localeCompare(b)));
  const perSec = (n) => n / (bucketMs / 1000);
  // Stacked bars: the series of code k holds the sum of codes 0..k, drawn from the top layer down.
  const raw = codes.map((c) => points.map((p) => perSec(p.codes[c] ?? 0)));
  const stacked = raw.map((_, k) => points.map((_p, i) => raw.slice(0, k + 1).reduce((sum, r) => sum + r[i], 0)));
  const rateData = [xs, ...stacked.reverse()];
  const latencyData = [xs, points.map((p) => p.p50Ms), points.map((p) => p.p90Ms), points.map((p) => p.p99Ms)];
  return { codes, raw, rateData, latencyData };
}

/** uPlot's bar renderer, shared by the status series (one bar group per bucket). */
const bars = window.uPlot.paths.bars({ size: [0.8, 24], gap: 1 });

/** One bar series per status code, top layer first; the legend shows each code's own rate (`charts.raw`). */
function rateSeries(codes, charts) {
  let e = 0;
  const series = codes.map((code, k) => {
    const stroke = CODE_COLORS[code] ?? (isErrorCode(code) ? ERROR_PALETTE[e++ % ERROR_PALETTE.length] : "#57606a");
    return { label: code, stroke, fill: `${stroke}99`, width: 1, paths: bars, value: (_u, _v, _s, i) => (i === null || i === undefined ? "–" : fmtRate(charts.raw[k][i])) };
  });
  return series.reverse();
}

function latencySeries() {
  return [
    { label: "p50", stroke: "#1f6feb", width: 2, spanGaps: true, value: (_u, v) => fmtMs(v) },
    { label: "p90", stroke: "#bf8700", width: 2, spanGaps: true, value: (_u, v) => fmtMs(v) },
    { label: "p99", stroke: "#cf222e", width: 2, spanGaps: true, value: (_u, v) => fmtMs(v) },
  ];
}

function makeChart(id, series, data, unit) {
  const container = document.getElementById(id);
  container.replaceChildren();
  const width = Math.max(320, container.clientWidth || 520);
  const opts = {
    width,
    height: 240,
    series: [{}, ...series],
    axes: [{}, { label: unit, size: 60 }],
    scales: { x: { time: true } },
    legend: { live: true },
  };
  return new window.uPlot(opts, data, container);
}
