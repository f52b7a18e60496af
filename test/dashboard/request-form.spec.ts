/**
 * The API explorer's per-field form description, from real descriptors
 * (test/proto/ferry/codec/v1/kinds3.proto): scalar type names, enums with
 * their values, nested messages as groups, repeated fields, maps and
 * well-known types as JSON boxes, oneofs named, recursion cut at the depth
 * limit, names in the JSON mapping.
 */
import { describe, expect, it } from "vitest";
import { MAX_FORM_DEPTH, type FormField } from "../../src/dashboard/index.js";
import { describeForm } from "../../src/dashboard/request-form.js";
import { Nested3Schema, Oneofs3Schema, Scalars3Schema } from "../gen/ferry/codec/v1/kinds3_pb.js";

const byName = (fields: readonly FormField[], name: string): FormField => {
  const f = fields.find((x) => x.name === name);
  if (f === undefined) throw new Error(`no field ${name}`);
  return f;
};

describe("describeForm", () => {
  it("names scalars by their protobuf type and enums with their values, in JSON names", () => {
    const fields = describeForm(Scalars3Schema);
    expect(byName(fields, "fInt64")).toEqual({ name: "fInt64", kind: "scalar", type: "int64", repeated: false });
    expect(byName(fields, "fBool")).toMatchObject({ kind: "scalar", type: "bool" });
    expect(byName(fields, "fBytes")).toMatchObject({ kind: "scalar", type: "bytes" });
    expect(byName(fields, "fDouble")).toMatchObject({ kind: "scalar", type: "double" });
    expect(byName(fields, "fEnum")).toEqual({ name: "fEnum", kind: "enum", type: "ferry.codec.v1.Color", repeated: false, values: ["COLOR_UNSPECIFIED", "COLOR_RED", "COLOR_GREEN", "COLOR_NEGATIVE"] });
  });

  it("draws nested messages as groups, repeated fields as lists, maps and well-known types as JSON", () => {
    const fields = describeForm(Nested3Schema);
    const scalars = byName(fields, "scalars");
    expect(scalars).toMatchObject({ kind: "message", type: "ferry.codec.v1.Scalars3", repeated: false });
    expect(scalars.fields?.some((f) => f.name === "fString")).toBe(true);
    expect(byName(fields, "children")).toMatchObject({ kind: "message", type: "ferry.codec.v1.Nested3", repeated: true });
    expect(byName(fields, "at")).toEqual({ name: "at", kind: "json", type: "google.protobuf.Timestamp", repeated: false });
    const maps = byName(fields, "maps").fields ?? [];
    expect(byName(maps, "mStringString")).toEqual({ name: "mStringString", kind: "map", type: "map", repeated: false });
    const repeated = byName(fields, "repeated").fields ?? [];
    expect(byName(repeated, "rInt64")).toMatchObject({ kind: "scalar", type: "int64", repeated: true });
    expect(byName(repeated, "uEnum")).toMatchObject({ kind: "enum", repeated: true, values: expect.arrayContaining(["COLOR_RED"]) as string[] });
  });

  it("cuts a recursive message at the depth limit, where it becomes a JSON box", () => {
    let level: readonly FormField[] = describeForm(Nested3Schema);
    for (let depth = 1; depth < MAX_FORM_DEPTH; depth++) {
      const child = byName(level, "child");
      expect(child.kind).toBe("message");
      level = child.fields ?? [];
    }
    expect(byName(level, "child")).toEqual({ name: "child", kind: "json", type: "ferry.codec.v1.Nested3", repeated: false });
  });

  it("names the oneof of each member", () => {
    const fields = describeForm(Oneofs3Schema);
    expect(byName(fields, "cString")).toMatchObject({ oneof: "choice", kind: "scalar", type: "string" });
    expect(byName(fields, "cWrapper")).toMatchObject({ oneof: "choice", kind: "json", type: "google.protobuf.Int32Value" });
    expect(byName(fields, "oBool")).toMatchObject({ oneof: "other" });
  });
});
