import Table from "cli-table3";
import pc from "picocolors";

/** Borderless: columns separated by two spaces, as `kubectl get` and `docker ps` print. */
const PLAIN_CHARS = {
  top: "", "top-mid": "", "top-left": "", "top-right": "",
  bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "",
  left: "", "left-mid": "", mid: "", "mid-mid": "",
  right: "", "right-mid": "", middle: "  ",
};

/**
 * Renders rows under upper-case headings as aligned columns (cli-table3),
 * ending with a newline; headings are bold when `color` (a terminal).
 * Cells are text; a long cell widens its column (no wrapping or truncation).
 * An empty `rows` renders the headings alone.
 */
export function renderTable(headings: readonly string[], rows: readonly (readonly string[])[], color: boolean): string {
  const table = new Table({
    head: headings.map((h) => (color ? pc.bold(h) : h)),
    chars: PLAIN_CHARS,
    style: { head: [], border: [], "padding-left": 0, "padding-right": 0 },
  });
  for (const row of rows) table.push([...row]);
  const text = table
    .toString()
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n");
  return `${text}\n`;
}
