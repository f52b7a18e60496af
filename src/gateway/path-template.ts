import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

/** One segment of a flattened template: a literal, `*` (one segment) or `**` (zero or more). */
type Segment = { readonly literal: string } | { readonly wildcard: "*" | "**" };

/** A variable: its field path and the segments it captures, `[start, end)` in the flattened template. */
interface Variable {
  readonly fieldPath: string;
  readonly start: number;
  readonly end: number;
}

/**
 * A parsed google.api.http path template (google/api/http.proto, "Path
 * template syntax"):
 *
 * ```
 * Template = "/" Segments [ Verb ] ;
 * Segments = Segment { "/" Segment } ;
 * Segment  = "*" | "**" | LITERAL | Variable ;
 * Variable = "{" FieldPath [ "=" Segments ] "}" ;
 * FieldPath = IDENT { "." IDENT } ;
 * Verb     = ":" LITERAL ;
 * ```
 *
 * `{var}` is `{var=*}`; `*` matches one segment, `**` zero or more (at most
 * one `**` per template). A variable's value is the text of the segments it
 * captured, percent-decoded: fully for a one-segment variable, and except
 * `%2F` for a multi-segment one (the rule's "reserved expansion").
 *
 * @throws FerryError INVALID_ARGUMENT (from the constructor) for a template
 * outside the grammar, naming the template and what is wrong.
 */
export class PathTemplate {
  readonly #segments: Segment[] = [];
  readonly #vars: Variable[] = [];
  readonly #verb: string | undefined;
  readonly #doubleStar: number;
  /** The custom verb after `:` (`"move"` of `/v1/{name}:move`), or `undefined`. */
  get verb(): string | undefined {
    return this.#verb;
  }
  /** The variables' field paths, in order (`"name"`, `"book.shelf_id"`). */
  readonly variables: readonly string[];

  constructor(readonly source: string) {
    if (!source.startsWith("/")) throw unsupported(source, "it must start with /");
    const colon = source.lastIndexOf(":");
    const hasVerb = colon > source.lastIndexOf("}") && colon > source.lastIndexOf("/");
    this.#verb = hasVerb ? source.slice(colon + 1) : undefined;
    if (this.#verb === "") throw unsupported(source, "the verb after : is empty");
    this.#parse(hasVerb ? source.slice(1, colon) : source.slice(1));
    this.#doubleStar = this.#segments.findIndex((s) => "wildcard" in s && s.wildcard === "**");
    if (this.#segments.filter((s) => "wildcard" in s && s.wildcard === "**").length > 1) throw unsupported(source, "** may appear once");
    this.variables = this.#vars.map((v) => v.fieldPath);
    if (new Set(this.variables).size !== this.variables.length) throw unsupported(source, "a field is bound twice");
  }

  #parse(path: string): void {
    let i = 0;
    const parts: string[] = [];
    // Split on "/" outside braces.
    let depth = 0;
    let start = 0;
    for (; i < path.length; i++) {
      const c = path[i];
      if (c === "{") depth++;
      else if (c === "}") depth--;
      else if (c === "/" && depth === 0) {
        parts.push(path.slice(start, i));
        start = i + 1;
      }
      if (depth < 0 || depth > 1) throw unsupported(this.source, "unbalanced or nested braces");
    }
    if (depth !== 0) throw unsupported(this.source, "unbalanced braces");
    parts.push(path.slice(start));
    for (const part of parts) {
      if (part.startsWith("{")) this.#parseVariable(part);
      else this.#segments.push(plainSegment(this.source, part));
    }
  }

  #parseVariable(part: string): void {
    if (!part.endsWith("}")) throw unsupported(this.source, `segment "${part}" mixes a variable and text`);
    const inner = part.slice(1, -1);
    const eq = inner.indexOf("=");
    const fieldPath = eq < 0 ? inner : inner.slice(0, eq);
    if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$/i.test(fieldPath)) throw unsupported(this.source, `variable name "${fieldPath}" is invalid`);
    const start = this.#segments.length;
    const sub = eq < 0 ? "*" : inner.slice(eq + 1);
    for (const s of sub.split("/")) this.#segments.push(plainSegment(this.source, s));
    this.#vars.push({ fieldPath, start, end: this.#segments.length });
  }

  /**
   * Matches a request path (without query string). Returns the variables'
   * values, percent-decoded, or `undefined` when the path does not match.
   *
   * @throws FerryError INVALID_ARGUMENT for a variable with a malformed
   * percent-escape or escaped bytes that are not UTF-8 (such as `%FF%FE`).
   */
  match(path: string): Map<string, string> | undefined {
    let p = path;
    if (this.#verb !== undefined) {
      if (!p.endsWith(`:${this.#verb}`)) return undefined;
      p = p.slice(0, -this.#verb.length - 1);
    }
    if (!p.startsWith("/")) return undefined;
    const parts = p.slice(1).split("/");
    const segs = this.#segments;
    // Where each template segment's parts begin: `**` takes what the others leave.
    const offsets = this.#layout(parts.length);
    if (offsets === undefined) return undefined;
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i];
      if ("literal" in seg) {
        if (parts[offsets[i]] !== seg.literal) return undefined;
      } else if (seg.wildcard === "*" && parts[offsets[i]] === "") return undefined;
    }
    const values = new Map<string, string>();
    for (const v of this.#vars) {
      const captured = parts.slice(offsets[v.start], offsets[v.end]);
      const single = v.end - v.start === 1 && v.start !== this.#doubleStar;
      values.set(v.fieldPath, single ? strictDecode(captured[0]) : captured.map(decodeKeepingSlash).join("/"));
    }
    return values;
  }

  /** The index of the first path part of each segment (and one past the end), or `undefined` when the count cannot fit. */
  #layout(count: number): number[] | undefined {
    const n = this.#segments.length;
    const ds = this.#doubleStar;
    if (ds < 0 ? count !== n : count < n - 1) return undefined;
    const offsets = new Array<number>(n + 1);
    for (let i = 0; i <= n; i++) offsets[i] = ds < 0 || i <= ds ? i : i + (count - n);
    return offsets;
  }
}

function plainSegment(source: string, part: string): Segment {
  if (part === "*" || part === "**") return { wildcard: part };
  if (part === "" || /[{}*]/.test(part)) throw unsupported(source, `segment "${part}" is not a literal, *, ** or a variable`);
  return { literal: part };
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

/** Decodes a segment of a multi-segment variable, leaving `%2F` as it is (google.api.http's reserved expansion). */
function decodeKeepingSlash(value: string): string {
  return value
    .split(/(%2[fF])/)
    .map((piece) => (/^%2[fF]$/.test(piece) ? piece : strictDecode(piece)))
    .join("");
}

function unsupported(source: string, why: string): FerryError {
  return new FerryError(Code.INVALID_ARGUMENT, `HTTP path template "${source}": ${why}`);
}
