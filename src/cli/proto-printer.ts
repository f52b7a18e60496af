import { ScalarType, type DescEnum, type DescField, type DescMessage, type DescMethod, type DescOneof, type DescService } from "@bufbuild/protobuf";

const INDENT = "  ";

function scalarName(type: ScalarType): string {
  return ScalarType[type].toLowerCase();
}

/** The type of a field as written in a `.proto` file, e.g. `string`, `shop.v1.Product`, `map<string, int32>`. */
function fieldType(field: DescField): string {
  switch (field.fieldKind) {
    case "scalar":
      return scalarName(field.scalar);
    case "enum":
      return field.enum.typeName;
    case "message":
      return field.message.typeName;
    case "list":
      return field.listKind === "scalar" ? scalarName(field.scalar) : field.listKind === "enum" ? field.enum.typeName : field.message.typeName;
    case "map": {
      const value = field.mapKind === "scalar" ? scalarName(field.scalar) : field.mapKind === "enum" ? field.enum.typeName : field.message.typeName;
      return `map<${scalarName(field.mapKey)}, ${value}>`;
    }
  }
}

/** `repeated `, `optional `, `required ` or nothing. */
function fieldLabel(field: DescField, proto2: boolean): string {
  if (field.fieldKind === "list") return "repeated ";
  if (field.fieldKind === "map" || field.oneof !== undefined) return "";
  if (field.proto.proto3Optional) return "optional ";
  if (proto2) return field.proto.label === 2 ? "required " : "optional ";
  return "";
}

function printField(field: DescField, depth: number, proto2: boolean): string {
  return `${INDENT.repeat(depth)}${fieldLabel(field, proto2)}${fieldType(field)} ${field.name} = ${field.number};`;
}

function printOneof(oneof: DescOneof, depth: number, proto2: boolean): string[] {
  const pad = INDENT.repeat(depth);
  return [`${pad}oneof ${oneof.name} {`, ...oneof.fields.map((f) => printField(f, depth + 1, proto2)), `${pad}}`];
}

function isProto2(desc: DescMessage): boolean {
  const syntax = desc.file.proto.syntax;
  return syntax === "" || syntax === "proto2";
}

/**
 * A message as `.proto` text: its fields in declaration order (oneof members
 * grouped at the first one's place), then nested enums and messages (map
 * entry messages are written as `map<K, V>` fields instead).
 *
 * @param depth - indentation level (two spaces each); 0 at the top.
 */
export function printMessage(message: DescMessage, depth = 0): string {
  const pad = INDENT.repeat(depth);
  const proto2 = isProto2(message);
  const lines = [`${pad}message ${message.name} {`];
  const printedOneofs = new Set<DescOneof>();
  for (const field of message.fields) {
    if (field.oneof === undefined) lines.push(printField(field, depth + 1, proto2));
    else if (!printedOneofs.has(field.oneof)) {
      printedOneofs.add(field.oneof);
      lines.push(...printOneof(field.oneof, depth + 1, proto2));
    }
  }
  for (const e of message.nestedEnums) lines.push(printEnum(e, depth + 1));
  for (const m of message.nestedMessages) if (!m.proto.options?.mapEntry) lines.push(printMessage(m, depth + 1));
  lines.push(`${pad}}`);
  return lines.join("\n");
}

/** An enum as `.proto` text, values in declaration order. */
export function printEnum(desc: DescEnum, depth = 0): string {
  const pad = INDENT.repeat(depth);
  return [`${pad}enum ${desc.name} {`, ...desc.values.map((v) => `${pad}${INDENT}${v.name} = ${v.number};`), `${pad}}`].join("\n");
}

/** One `rpc` line: `rpc Name(stream pkg.In) returns (stream pkg.Out);`, with `stream` by method kind. */
export function printMethod(method: DescMethod, depth = 0): string {
  const inStream = method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming" ? "stream " : "";
  const outStream = method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming" ? "stream " : "";
  return `${INDENT.repeat(depth)}rpc ${method.name}(${inStream}${method.input.typeName}) returns (${outStream}${method.output.typeName});`;
}

/** A service as `.proto` text: one `rpc` line per method. */
export function printService(service: DescService): string {
  return [`service ${service.name} {`, ...service.methods.map((m) => printMethod(m, 1)), "}"].join("\n");
}

/** A top-level description: `// <full name> (<kind>) in <file>` followed by the definition. */
export function printHeader(fullName: string, kind: string, fileName: string): string {
  return `// ${fullName} is a ${kind} in ${fileName}`;
}
