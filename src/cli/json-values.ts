/**
 * Splits a stream of text into top-level JSON values: JSON lines, several
 * objects one after another (`{"a":1} {"a":2}`), or pretty-printed objects
 * spanning lines. Feed it chunks with {@link JsonValueSplitter.push}; each
 * call returns the values completed so far, already parsed.
 *
 * Only objects and arrays are tracked by nesting; a bare scalar (`42`,
 * `"text"`, `true`) is returned when the whitespace after it arrives, or at
 * {@link JsonValueSplitter.end}.
 */
export class JsonValueSplitter {
  #buffer = "";
  #start = -1;
  #depth = 0;
  #inString = false;
  #escaped = false;
  #pos = 0;

  /**
   * Adds a chunk and returns the values it completed.
   *
   * @throws SyntaxError naming the value's position when a completed value is not valid JSON.
   */
  push(chunk: string): unknown[] {
    this.#buffer += chunk;
    const values: unknown[] = [];
    for (; this.#pos < this.#buffer.length; this.#pos++) {
      const done = this.#step(this.#buffer[this.#pos]);
      if (done) values.push(this.#take(this.#pos + 1));
    }
    return values;
  }

  /**
   * Ends the input and returns the last value, if one was pending.
   *
   * @throws SyntaxError when the input ends inside a value.
   */
  end(): unknown[] {
    if (this.#start < 0) return [];
    if (this.#depth > 0 || this.#inString) throw new SyntaxError(`unexpected end of JSON input in the value starting "${this.#buffer.slice(this.#start, this.#start + 40)}"`);
    return [this.#take(this.#buffer.length)];
  }

  /** Advances over one character; true when it ends a value. */
  #step(c: string): boolean {
    if (this.#inString) {
      if (this.#escaped) this.#escaped = false;
      else if (c === "\\") this.#escaped = true;
      else if (c === '"') {
        this.#inString = false;
        return this.#depth === 0 && this.#start >= 0 && this.#buffer[this.#start] === '"';
      }
      return false;
    }
    const space = c === " " || c === "\n" || c === "\r" || c === "\t";
    if (this.#start < 0) {
      if (space) return false;
      this.#start = this.#pos;
    } else if (space) {
      return this.#depth === 0;
    }
    if (c === '"') this.#inString = true;
    else if (c === "{" || c === "[") this.#depth++;
    else if (c === "}" || c === "]") {
      this.#depth--;
      return this.#depth <= 0;
    }
    return false;
  }

  #take(end: number): unknown {
    const text = this.#buffer.slice(this.#start, end);
    this.#buffer = this.#buffer.slice(end);
    this.#pos = -1;
    this.#start = -1;
    this.#depth = 0;
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new SyntaxError(`${(err as Error).message} in "${text.length > 60 ? `${text.slice(0, 60)}…` : text}"`);
    }
  }
}

/** Every top-level JSON value in `text` (see {@link JsonValueSplitter}). @throws SyntaxError for invalid JSON. */
export function parseJsonValues(text: string): unknown[] {
  const splitter = new JsonValueSplitter();
  return [...splitter.push(text), ...splitter.end()];
}
