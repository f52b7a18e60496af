import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

/** One segment of a parsed path template. */
type Segment = { literal: string } | { variable: string };

/**
 * A parsed google.api.http path template (google/api/http.proto, "Path
 * template syntax"): literal segments and single-segment variables
 * `{field}` or `{field=*}`, with an optional `:verb` suffix. Multi-segment
 * captures (`**`, `{name=shelves/*}`) are rejected with INVALID_ARGUMENT when
 * the gateway is built, rather than matched wrongly.
 */
export class PathTemplate {
  readonly #segments: Segment[];
  readonly #verb: string | undefined;
  /** The variables' field paths, in order. */
  readonly variables: readonly string[];

  constructor(readonly source: string) {
    if (!source.startsWith("/")) throw unsupported(source, "it must start with /");
    const colon = source.lastIndexOf(":");
    const hasVerb = colon > source.lastIndexOf("}") && colon > source.lastIndexOf("/");
    this.#verb = hasVerb ? source.slice(colon + 1) : undefined;
    const path = hasVerb ? source.slice(0, colon) : source;
    this.#segments = path.slice(1).split("/").map((part) => parseSegment(source, part));
    this.variables = this.#segments.flatMap((s) => ("variable" in s ? [s.variable] : []));
  }

  /**
   * Matches a request path (without query string). Returns the variables'
   * values, percent-decoded, or `undefined` when the path does not match.
   * Throws INVALID_ARGUMENT for a variable with a malformed percent-escape
   * or escaped bytes that are not UTF-8 (such as `%FF%FE`).
   */
  match(path: string): Map<string, string> | undefined {
    let p = path;
    if (this.#verb !== undefined) {
      if (!p.endsWith(`:${this.#verb}`)) return undefined;
      p = p.slice(0, -this.#verb.length - 1);
    }
    if (!p.startsWith("/")) return undefined;
    const parts = p.slice(1).split("/");
    if (parts.length !== this.#segments.length) return undefined;
    const values = new Map<string, string>();
    for (let i = 0; i < parts.length; i++) {
      const seg = this.#segments[i];
      if ("literal" in seg) {
        if (parts[i] !== seg.literal) return undefined;
      } else {
        if (parts[i] === "") return undefined;
        values.set(seg.variable, strictDecode(parts[i]));
      }
    }
    return values;
  }
}

function parseSegment(source: string, part: string): Segment {
  if (!part.startsWith("{")) {
    if (part.includes("{") || part.includes("}") || part === "*" || part === "**") throw unsupported(source, `segment "${part}" is not supported`);
    return { literal: part };
  }
  if (!part.endsWith("}")) throw unsupported(source, `segment "${part}" is not a single variable`);
  const inner = part.slice(1, -1);
  const eq = inner.indexOf("=");
  const name = eq < 0 ? inner : inner.slice(0, eq);
  if (eq >= 0 && inner.slice(eq + 1) !== "*") throw unsupported(source, `variable "${inner}" captures more than one segment`);
  if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$/i.test(name)) throw unsupported(source, `variable name "${name}" is invalid`);
  return { variable: name };
}

/** Percent-decodes one segment; a malformed escape or one that is not UTF-8 is INVALID_ARGUMENT, never passed through (it would alias its `%25` form). */
function strictDecode(value: string): string {
  if (!value.includes("%")) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    throw new FerryError(Code.INVALID_ARGUMENT, "invalid percent-escape in the path: the escaped bytes are not UTF-8");
  }
}

function unsupported(source: string, why: string): FerryError {
  return new FerryError(Code.INVALID_ARGUMENT, `HTTP path template "${source}": ${why}`);
}
