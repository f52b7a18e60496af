/* global document, fetch */
// Small helpers shared by the views: the JSON API, DOM building (text only,
// never HTML from data), number formats and stable colours per service.

/** GETs a JSON API path; throws with the server's message on an error status. */
export async function api(path) {
  const res = await fetch(path, { headers: { accept: "application/json" } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.message ?? `${res.status} ${res.statusText}`);
  return body;
}

/** Creates an element with attributes/properties and children (strings become text nodes). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === "class") node.className = value;
    else if (key === "style" && typeof value === "object") Object.assign(node.style, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) node.append(child);
  return node;
}

/** Replaces the rows of a table body. */
export function setRows(tbody, rows) {
  tbody.replaceChildren(...rows);
}

/** A table cell; `num` right-aligns it. */
export function td(content, num = false) {
  return el("td", { class: num ? "num" : undefined }, content);
}

/** Milliseconds for people: 0.42 ms, 12.3 ms, 1.25 s. */
export function fmtMs(ms) {
  if (ms === null || ms === undefined) return "–";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** A rate per second: 0.03/s, 12/s. */
export function fmtRate(perSec) {
  return perSec >= 10 ? `${perSec.toFixed(0)}/s` : `${perSec.toFixed(perSec >= 1 ? 1 : 2)}/s`;
}

/** A ratio as a percentage. */
export function fmtPct(ratio) {
  return ratio === 0 ? "0%" : `${(ratio * 100).toFixed(ratio < 0.01 ? 2 : 1)}%`;
}

/** A local wall-clock time with milliseconds. */
export function fmtTime(ms) {
  const d = new Date(ms);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, "0")}`;
}

/** Whether an outcome label counts as a failure (the server's rule: not OK, not HTTP 1xx–3xx). */
export function isErrorCode(code) {
  const http = /^HTTP (\d{3})$/.exec(code);
  return code !== "OK" && (http === null || Number(http[1]) >= 400);
}

/** A status code badge. */
export function codeBadge(code, count) {
  return el("span", { class: `code ${isErrorCode(code) ? "err" : "ok"}`, title: code }, count === undefined ? code : `${code} ${count}`);
}

/** Distinct colours for services, red left out (it means failure here). */
const PALETTE = ["#1f6feb", "#2da44e", "#bf8700", "#8250df", "#0598bc", "#bc4c00", "#1b7c83", "#bf3989", "#6e7781", "#4d2d00"];

const assigned = new Map();

/** A colour per name, stable for the page's life: palette entries in order of first use, so up to ten services never share one. */
export function colorOf(name) {
  let color = assigned.get(name);
  if (color === undefined) {
    color = PALETTE[assigned.size % PALETTE.length];
    assigned.set(name, color);
  }
  return color;
}
