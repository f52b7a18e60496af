/* global document, location, URLSearchParams */
// Traces: recent traces with search (service, method, status, minimum
// duration); the open trace (#traces/<traceId>) is drawn by waterfall.js.
import { api, codeBadge, el, fmtMs, fmtTime, setRows, td } from "./util.js";
import { renderWaterfall } from "./waterfall.js";

export function createTracesView() {
  const form = document.getElementById("trace-search");
  let openTraceId;
  let selectedSpan;
  let trace;

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void loadList();
  });

  async function loadServices() {
    const { services } = await api("/api/overview");
    const select = form.elements.service;
    const current = select.value;
    select.replaceChildren(el("option", { value: "" }, "any"), ...services.map((s) => el("option", { value: s }, s)));
    select.value = services.includes(current) ? current : "";
  }

  async function loadList() {
    const q = new URLSearchParams();
    for (const name of ["service", "method", "status", "minDurationMs"]) {
      const value = form.elements[name].value.trim();
      if (value !== "") q.set(name, value);
    }
    const traces = await api(`/api/traces?${q}`);
    setRows(document.querySelector("#trace-table tbody"), traces.map((t) =>
      el("tr", { class: t.traceId === openTraceId ? "selected" : undefined, "data-trace": t.traceId, onclick: () => { location.hash = `#traces/${t.traceId}`; } },
        td(fmtTime(t.startMs)), td(`${t.rootService} ${t.rootName}`), td(t.services.join(", ")), td(String(t.spanCount), true),
        td(fmtMs(t.durationMs), true), td(t.error ? t.errorCodes.map((c) => codeBadge(c)) : codeBadge("OK")))));
    document.getElementById("traces-empty").hidden = traces.length > 0;
  }

  async function loadTrace() {
    if (openTraceId === undefined) {
      document.getElementById("trace-title").textContent = "Select a trace";
      document.getElementById("waterfall").replaceChildren();
      document.getElementById("span-detail").hidden = true;
      return;
    }
    // A trace opened from a link (the explorer's "trace →") may still be on its way: the server waits for it a little.
    trace = await api(`/api/traces/${openTraceId}?waitMs=3000`);
    draw();
  }

  function draw() {
    renderWaterfall(trace, selectedSpan, (spanId) => {
      selectedSpan = spanId;
      draw();
    });
  }

  return {
    show(traceId, query) {
      openTraceId = traceId;
      // #traces?service=NAME (from the topology's details): applied once the service list is loaded.
      if (query?.has("service")) form.elements.service.dataset.wanted = query.get("service");
    },
    hide() {},
    async refresh() {
      await loadServices();
      const wanted = form.elements.service.dataset.wanted;
      if (wanted !== undefined) {
        form.elements.service.value = wanted;
        delete form.elements.service.dataset.wanted;
      }
      await loadList();
      await loadTrace();
    },
  };
}
