export { UnknownService as EmptyServiceSchemaless } from "../gen/ferry/test/v1/unknown_pb.js";
