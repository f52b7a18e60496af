import type { DescFile } from "@bufbuild/protobuf";
import * as wkt from "@bufbuild/protobuf/wkt";
import type { FileDescriptorProto } from "@bufbuild/protobuf/wkt";

/** Every `file_google_protobuf_*` descriptor protobuf-es ships, by file name. */
const files = new Map<string, FileDescriptorProto>(
  Object.entries(wkt)
    .filter(([name]) => name.startsWith("file_google_protobuf_"))
    .map(([, file]) => [(file as DescFile).proto.name, (file as DescFile).proto]),
);

/**
 * The FileDescriptorProto of a well-known type file (`google/protobuf/timestamp.proto`
 * and the other files protobuf-es ships), or `undefined` for any other name.
 * Used when a server's reflection leaves these imports out.
 */
export function wellKnownFile(name: string): FileDescriptorProto | undefined {
  return files.get(name);
}
