/* global document */
// The waterfall of one trace across RPC hops, broker hops and consumers:
// every span under its parent on the trace's time line, and the selected
// span's attributes and events.
import { codeBadge, colorOf, el, fmtMs, fmtTime } from "./util.js";

/** Draws `trace` ({ summary, spans }) with `selectedSpan` open; `onSelect(spanId)` when a row is clicked. */
export function renderWaterfall(trace, selectedSpan, onSelect) {
  const { summary, spans } = trace;
  document.getElementById("trace-title").textContent = `${summary.rootService} ${summary.rootName} · ${fmtMs(summary.durationMs)} · ${summary.spanCount} spans · ${summary.services.length} services`;
  const rows = treeOrder(spans).map(({ span, depth }) => spanRow(span, depth, summary, span.spanId === selectedSpan, () => onSelect(span.spanId)));
  document.getElementById("waterfall").replaceChildren(legend(summary.services), ...rows);
  const chosen = spans.find((s) => s.spanId === selectedSpan) ?? spans[0];
  if (chosen !== undefined) showSpan(chosen);
}

function spanRow(span, depth, summary, selected, onclick) {
  const total = Math.max(summary.durationMs, 0.001);
  const left = ((span.startMs - summary.startMs) / total) * 100;
  const width = Math.max((span.durationMs / total) * 100, 0.2);
  const failed = span.status === "error" || span.code !== "OK";
  const bar = el("div", { class: `span-bar${span.status === "error" ? " error" : ""}`, style: { left: `${left}%`, width: `${width}%`, background: colorOf(span.service) } });
  const dur = el("span", { class: `span-dur${width > 15 ? " inside" : ""}`, style: durationPlace(left, width) }, fmtMs(span.durationMs));
  const marks = span.events.map((e) => el("div", { class: "span-event", title: e.name, style: { left: `${((e.timeMs - summary.startMs) / total) * 100}%` } }));
  const name = el("div", { class: "span-name", style: { paddingLeft: `${0.4 + depth * 1.1}rem` } },
    el("span", { class: "svc", style: { color: colorOf(span.service) } }, span.service), span.name,
    el("span", { class: "kind" }, span.kind), failed ? [" ", codeBadge(span.code)] : "");
  return el("div", { class: `span-row${selected ? " selected" : ""}`, role: "treeitem", "data-span": span.spanId, onclick },
    name, el("div", { class: "span-track" }, bar, dur, marks));
}

function showSpan(span) {
  const panel = document.getElementById("span-detail");
  panel.hidden = false;
  const entries = [
    ["service", span.service], ["kind", span.kind], ["status", `${span.status}${span.statusMessage ? `: ${span.statusMessage}` : ""}`], ["code", span.code],
    ["start", fmtTime(span.startMs)], ["duration", fmtMs(span.durationMs)], ["span id", span.spanId], ["instance", span.instance ?? "—"],
    ...Object.entries(span.attributes).map(([k, v]) => [k, String(v)]),
  ];
  panel.replaceChildren(
    el("h2", {}, span.name),
    dl(entries),
    el("h2", {}, `Events (${span.events.length})`),
    span.events.length === 0 ? el("p", { class: "muted" }, "none") : el("ol", { class: "events" }, span.events.map((e) => el("li", {},
      el("strong", {}, e.name), ` +${fmtMs(e.timeMs - span.startMs)} `, dl(Object.entries(e.attributes).map(([k, v]) => [k, String(v)]))))),
  );
}

function dl(entries) {
  return el("dl", { class: "attrs" }, entries.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

/** Where a bar's duration label goes: inside a wide bar, else after it, else before it (percent of the track). */
function durationPlace(left, width) {
  if (width > 15) return { left: `${left}%` };
  if (left + width < 85) return { left: `${left + width + 0.5}%` };
  return { right: `${100 - left + 0.5}%` };
}

/** Spans in depth-first order under their parents (orphans as roots), each with its depth. */
function treeOrder(spans) {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map();
  for (const s of spans) {
    const parent = s.parentSpanId !== undefined && ids.has(s.parentSpanId) ? s.parentSpanId : "";
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(s);
  }
  const out = [];
  const visit = (parent, depth) => {
    for (const s of (children.get(parent) ?? []).sort((a, b) => a.startMs - b.startMs)) {
      out.push({ span: s, depth });
      if (depth < 64) visit(s.spanId, depth + 1);
    }
  };
  visit("", 0);
  return out;
}

function legend(services) {
  return el("div", { class: "legend" }, services.map((s) => el("span", {}, el("span", { class: "swatch", style: { background: colorOf(s) } }), s)));
}
