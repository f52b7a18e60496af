/* global window, document */
// Topology: services, topics and consumer groups laid out by cytoscape,
// an edge per observed call path or message flow with rate, error rate and
// p99; the same edges as a table below; details of a selection on the side.
import { api, codeBadge, el, fmtMs, fmtPct, fmtRate, setRows, td } from "./util.js";

const STYLE = [
  { selector: "node", style: { label: "data(display)", "text-wrap": "wrap", "text-valign": "center", "font-size": 14, color: "#fff", "text-max-width": 170, width: 180, height: 54, "border-width": 3, "border-color": "data(border)" } },
  { selector: "node[kind='service']", style: { shape: "round-rectangle", "background-color": "#1f6feb" } },
  { selector: "node[kind='topic']", style: { shape: "hexagon", "background-color": "#bc4c00", width: 190 } },
  { selector: "node[kind='group']", style: { shape: "tag", "background-color": "#8250df", width: 170 } },
  { selector: "edge", style: { width: 2, "curve-style": "bezier", "target-arrow-shape": "triangle", "line-color": "#8c959f", "target-arrow-color": "#8c959f", label: "data(display)", "font-size": 12, "text-background-color": "#fff", "text-background-opacity": 0.9, "text-background-padding": 2, "text-wrap": "wrap", "text-halign": "center", "text-valign": "center" } },
  { selector: "edge[kind!='rpc']", style: { "line-style": "dashed" } },
  { selector: "edge[?failing]", style: { "line-color": "#cf222e", "target-arrow-color": "#cf222e", width: 3 } },
  { selector: ":selected", style: { "overlay-color": "#1f6feb", "overlay-opacity": 0.15 } },
];

/** What the side panel shows with nothing selected: how to read the map. */
const HINT = () => [
  el("p", { class: "muted" }, "Select a service, topic, group or edge."),
  el("dl", { class: "attrs" },
    el("dt", {}, "blue box"), el("dd", {}, "service (its transports below the name)"),
    el("dt", {}, "orange hexagon"), el("dd", {}, "topic"),
    el("dt", {}, "purple tag"), el("dd", {}, "consumer group"),
    el("dt", {}, "border"), el("dd", {}, "green ok · yellow some errors · red ≥ 50 % errors"),
    el("dt", {}, "edges"), el("dd", {}, "solid: calls · dashed: messages · red: with errors")),
];

const HEALTH_BORDER = { ok: "#2da44e", degraded: "#d4a72c", failing: "#cf222e", idle: "#d0d7de" };

export function createTopologyView() {
  let cy;
  let graph = { nodes: [], edges: [] };
  let shape = "";
  let selected;

  function ensureGraph() {
    if (cy !== undefined) return;
    cy = window.cytoscape({ container: document.getElementById("graph"), style: STYLE, wheelSensitivity: 0.3, minZoom: 0.2, maxZoom: 3 });
    cy.on("tap", "node, edge", (event) => showDetails(event.target.id()));
    cy.on("tap", (event) => { if (event.target === cy) showDetails(undefined); });
    window.ferryDashboard.cy = cy;
  }

  function render() {
    ensureGraph();
    const elements = [
      ...graph.nodes.map((n) => ({ group: "nodes", data: { id: n.id, kind: n.kind, border: HEALTH_BORDER[n.health], display: nodeLabel(n) } })),
      ...graph.edges.map((e) => ({ group: "edges", data: { id: e.id, source: e.source, target: e.target, kind: e.kind, failing: e.errorRate > 0, display: edgeLabel(e) } })),
    ];
    const nextShape = elements.map((e) => e.data.id).sort().join("|");
    if (nextShape !== shape) {
      cy.elements().remove();
      cy.add(elements);
      // Breadth-first from the callers, top to bottom; labels stay horizontal. The roots are the nodes nothing calls
      // or publishes to (a consumer's delivery edges do not count: a process that consumes what it also calls, such as
      // the in-process shop, would otherwise leave no root and the map would be one flat row).
      const roots = cy.nodes().filter((n) => n.incomers('edge[kind != "consume"]').empty());
      cy.layout({ name: "breadthfirst", directed: true, roots: roots.empty() ? undefined : roots, spacingFactor: 1.05, padding: 20, animate: false }).run();
      shape = nextShape;
    } else {
      for (const e of elements) cy.getElementById(e.data.id).data(e.data);
    }
    renderTable();
    document.getElementById("topology-empty").hidden = graph.nodes.length > 0;
    showDetails(selected);
  }

  function renderTable() {
    const label = new Map(graph.nodes.map((n) => [n.id, n.label]));
    setRows(document.querySelector("#edge-table tbody"), graph.edges.map((e) =>
      el("tr", { "data-edge": e.id },
        td(label.get(e.source) ?? e.source), td(label.get(e.target) ?? e.target), td(e.kind),
        td(e.operations.join(", ")), td(fmtRate(e.ratePerSec), true),
        td(Object.entries(e.codes).filter(([c]) => c !== "OK").map(([c, n]) => codeBadge(c, n))), td(fmtMs(e.p99Ms), true))));
  }

  function showDetails(id) {
    selected = id;
    const panel = document.getElementById("graph-details");
    const node = graph.nodes.find((n) => n.id === id);
    const edge = graph.edges.find((e) => e.id === id);
    if (node !== undefined) panel.replaceChildren(...nodeDetails(node));
    else if (edge !== undefined) panel.replaceChildren(...edgeDetails(edge, graph));
    else panel.replaceChildren(...HINT());
  }

  return {
    show() {},
    hide() {},
    async refresh() {
      graph = await api("/api/topology");
      render();
    },
  };
}

function nodeLabel(n) {
  if (n.kind !== "service") return n.label;
  const count = Math.max(n.instances.length, n.registered?.length ?? 0);
  const instances = count > 1 ? ` ×${count}` : "";
  return `${n.label}${instances}\n${n.transports.join(" · ") || "—"}`;
}

function edgeLabel(e) {
  return `${fmtRate(e.ratePerSec)} · ${fmtPct(e.errorRate)} err\np99 ${fmtMs(e.p99Ms)}`;
}

function dl(entries) {
  return el("dl", { class: "attrs" }, entries.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function nodeDetails(n) {
  return [
    el("h2", {}, `${n.kind} ${n.label}`),
    dl([
      ["health", n.health],
      ["handled (15 min)", String(n.count)],
      ["error rate", fmtPct(n.errorRate)],
      ["p99", fmtMs(n.p99Ms)],
      ["transports", n.transports.join(", ") || "—"],
      ["instances (telemetry)", n.instances.join(", ") || "—"],
      ...(n.registered === undefined ? [] : [["instances (registry)", n.registered.map((i) => `${i.instanceId} ${i.endpoints.join(" ")}`).join(", ") || "none registered"]]),
      ...(n.process === undefined ? [] : [["process", n.process]]),
      ["RPC services", n.rpcServices.join(", ") || "—"],
      ["last seen", new Date(n.lastSeenMs).toLocaleTimeString()],
    ]),
    n.kind === "service" ? el("a", { href: `#traces?service=${encodeURIComponent(n.process ?? n.label)}` }, "traces of this service →") : "",
  ];
}

function edgeDetails(e, graph) {
  const name = (id) => graph.nodes.find((n) => n.id === id)?.label ?? id;
  return [
    el("h2", {}, `${name(e.source)} → ${name(e.target)}`),
    dl([
      ["kind", e.kind],
      ["operations", e.operations.join(", ")],
      ["calls (15 min)", String(e.count)],
      ["rate", fmtRate(e.ratePerSec)],
      ["error rate", fmtPct(e.errorRate)],
      ["p99", fmtMs(e.p99Ms)],
    ]),
    el("div", {}, Object.entries(e.codes).map(([c, n]) => codeBadge(c, n))),
  ];
}
