import { createRegistry, type DescFile, type DescService, type Registry } from "@bufbuild/protobuf";
import { file_google_protobuf_any, file_google_protobuf_duration, file_google_protobuf_empty, file_google_protobuf_field_mask, file_google_protobuf_struct, file_google_protobuf_timestamp, file_google_protobuf_wrappers } from "@bufbuild/protobuf/wkt";

/**
 * A registry of every message, enum and extension in the files that declare
 * `services` and the files they import, transitively, plus the well-known
 * types: what the gateway needs to write `google.protobuf.Any` fields and
 * error details in JSON (protobuf JSON mapping, "Any").
 */
export function contractRegistry(services: readonly DescService[]): Registry {
  const files = new Set<DescFile>([file_google_protobuf_any, file_google_protobuf_duration, file_google_protobuf_empty, file_google_protobuf_field_mask, file_google_protobuf_struct, file_google_protobuf_timestamp, file_google_protobuf_wrappers]);
  const visit = (file: DescFile): void => {
    if (files.has(file)) return;
    files.add(file);
    file.dependencies.forEach(visit);
  };
  for (const s of services) visit(s.file);
  return createRegistry(...files);
}
