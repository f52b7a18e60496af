/* global window, document, location, URLSearchParams, EventSource */
// The page: six views behind hash routes (#topology, #calls,
// #traces[/traceId], #messaging, #resilience, #explorer), refreshed by the
// server's live events.
import { createCallsView } from "./calls.js";
import { createExplorerView } from "./explorer.js";
import { createMessagingView } from "./messaging.js";
import { createResilienceView } from "./resilience.js";
import { createTopologyView } from "./topology.js";
import { createTracesView } from "./traces.js";
import { api } from "./util.js";

const views = {
  topology: createTopologyView(),
  calls: createCallsView(),
  traces: createTracesView(),
  messaging: createMessagingView(),
  resilience: createResilienceView(),
  explorer: createExplorerView(),
};
const state = { current: undefined, refreshing: false, again: false };
/** For tests and the console: the views and the last refresh. */
window.ferryDashboard = { views, refreshes: 0, errors: [] };

function route() {
  const [path, query] = location.hash.replace(/^#/, "").split("?");
  const [name, param] = path.split("/");
  const view = views[name] ?? views.topology;
  for (const [key, v] of Object.entries(views)) {
    document.getElementById(`view-${key}`).hidden = v !== view;
    document.querySelector(`nav a[data-view="${key}"]`).classList.toggle("active", v === view);
  }
  if (state.current !== view) state.current?.hide?.();
  state.current = view;
  view.show(param ? decodeURIComponent(param) : undefined, new URLSearchParams(query ?? ""));
  refresh();
}

/** Reloads the shown view; coalesces calls while one is running. */
async function refresh() {
  if (state.refreshing) {
    state.again = true;
    return;
  }
  state.refreshing = true;
  try {
    await state.current.refresh();
    window.ferryDashboard.refreshes++;
  } catch (err) {
    window.ferryDashboard.errors.push(String(err));
  } finally {
    state.refreshing = false;
    if (state.again) {
      state.again = false;
      void refresh();
    }
  }
}

function showUsage(usage) {
  const mib = (usage.bytes / 1048576).toFixed(1);
  document.getElementById("usage").textContent = `${usage.traces} traces · ${usage.spans} spans · ${mib} MiB retained`;
}

function connectLive() {
  const badge = document.getElementById("live");
  const events = new EventSource("/api/events");
  events.addEventListener("open", () => {
    badge.textContent = "live";
    badge.className = "live on";
  });
  events.addEventListener("error", () => {
    badge.textContent = "reconnecting…";
    badge.className = "live off";
  });
  events.addEventListener("update", (event) => {
    showUsage(JSON.parse(event.data).usage);
    void refresh();
  });
}

window.addEventListener("hashchange", route);
route();
connectLive();
api("/api/overview").then((o) => showUsage(o.usage), () => {});
