// The API explorer's per-field request form, drawn from the field list the
// server derives from the request message's descriptor (request-form.ts):
// a text or number box per scalar, a checkbox per bool, a choice per enum, a
// group per nested message, a list with "+ add" per repeated field, a JSON
// box for maps, well-known types and messages nested too deep. Every edit
// updates `value` (protobuf JSON mapping) and calls `changed()`.
import { el } from "./util.js";

const NUMBER_TYPES = new Set(["double", "float", "int32", "uint32", "sint32", "fixed32", "sfixed32"]);

/** The form for `fields`, editing the object `value` in place. */
export function requestForm(fields, value, changed) {
  if (fields.length === 0) return el("p", { class: "muted" }, "This request has no fields.");
  return el("div", { class: "req-form" }, fields.map((f) => fieldRow(f, value, f.name, changed)));
}

function fieldRow(f, obj, path, changed) {
  const type = `${f.repeated ? "repeated " : ""}${f.type}${f.oneof ? ` · oneof ${f.oneof}` : ""}`;
  const label = el("span", { class: "req-label" }, el("span", { class: "req-name" }, f.name), el("span", { class: "req-type" }, type));
  const input = f.repeated ? listInput(f, obj, path, changed) : oneInput(f, () => obj[f.name], (v) => assign(obj, f.name, v), path, changed);
  return el("div", { class: "req-field", "data-path": path }, label, input);
}

function assign(obj, key, v) {
  if (v === undefined) delete obj[key];
  else obj[key] = v;
}

function listInput(f, obj, path, changed) {
  const box = el("div", { class: "req-list" });
  const draw = () => {
    const list = Array.isArray(obj[f.name]) ? obj[f.name] : [];
    const items = list.map((_, i) => el("div", { class: "req-item" },
      oneInput(f, () => list[i], (v) => (list[i] = v ?? emptyOf(f)), `${path}.${i}`, changed),
      el("button", { type: "button", class: "small", title: "remove", onclick: () => { list.splice(i, 1); changed(); draw(); } }, "−")));
    const add = el("button", { type: "button", class: "small req-add", onclick: () => { obj[f.name] = [...list, emptyOf(f)]; changed(); draw(); } }, `+ add ${f.name}`);
    box.replaceChildren(...items, add);
  };
  draw();
  return box;
}

function emptyOf(f) {
  if (f.kind === "message") return {};
  if (f.kind === "enum") return f.values[0];
  if (f.kind === "scalar") return f.type === "bool" ? false : NUMBER_TYPES.has(f.type) ? 0 : f.type.endsWith("64") ? "0" : "";
  return null;
}

function oneInput(f, get, set, path, changed) {
  const update = (v) => { set(v); changed(); };
  if (f.kind === "message") {
    const sub = get() ?? {};
    if (get() === undefined) set(sub);
    return el("fieldset", { class: "req-group" }, f.fields.map((g) => fieldRow(g, sub, `${path}.${g.name}`, changed)));
  }
  if (f.kind === "enum") {
    return el("select", { name: path, onchange: (e) => update(e.target.value) }, f.values.map((v) => el("option", { value: v, selected: v === get() }, v)));
  }
  if (f.kind === "json" || f.kind === "map") {
    const box = el("textarea", { name: path, rows: 2, spellcheck: false, value: get() === undefined ? "" : JSON.stringify(get()) });
    box.addEventListener("input", () => {
      try {
        update(box.value.trim() === "" ? undefined : JSON.parse(box.value));
        box.classList.remove("invalid");
      } catch {
        box.classList.add("invalid");
      }
    });
    return box;
  }
  if (f.type === "bool") return el("input", { type: "checkbox", name: path, checked: get() === true, onchange: (e) => update(e.target.checked) });
  const numeric = NUMBER_TYPES.has(f.type);
  const input = el("input", { type: numeric ? "number" : "text", name: path, value: get() ?? "", step: numeric ? "any" : undefined, placeholder: f.type === "bytes" ? "base64" : f.type });
  input.addEventListener("input", () => update(numeric ? (input.value === "" ? undefined : Number(input.value)) : input.value));
  return input;
}
