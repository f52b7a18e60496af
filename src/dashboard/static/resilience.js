/* global document */
// Resilience: circuit breaker states (from the breaker-state gauge received
// on /v1/metrics) and the policy and channel events recorded on call spans
// (retries, hedges, timeouts, breaker transitions, rejections, ejections).
import { api, el, fmtTime, setRows, td } from "./util.js";

const STATE_CLASS = { closed: "code ok", "half-open": "code warn", open: "code err" };

export function createResilienceView() {
  return {
    show() {},
    hide() {},
    async refresh() {
      const { breakers, counts, recent } = await api("/api/resilience");
      setRows(document.querySelector("#breaker-table tbody"), breakers.map((b) =>
        el("tr", {}, td(b.service), td(b.policy), td(el("span", { class: STATE_CLASS[b.state] ?? "code" }, b.state)), td(fmtTime(b.timeMs)))));
      setRows(document.querySelector("#policy-count-table tbody"), counts.map((c) =>
        el("tr", {}, td(c.service), td(c.operation), td(c.event), td(String(c.count), true), td(c.lastMs === undefined ? "—" : fmtTime(c.lastMs)))));
      setRows(document.querySelector("#policy-recent-table tbody"), recent.map((e) =>
        el("tr", {}, td(fmtTime(e.atMs)), td(e.service), td(e.operation), td(e.event),
          el("td", { class: "wrap" }, Object.entries(e.attributes).map(([k, v]) => `${k}=${v}`).join(" ")), td(el("a", { href: `#traces/${e.traceId}` }, "trace →")))));
      document.getElementById("resilience-empty").hidden = counts.length > 0 || breakers.length > 0;
    },
  };
}
