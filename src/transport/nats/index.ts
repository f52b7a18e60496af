/**
 * Unary calls over NATS request/reply (docs/messaging.md, "Request/reply over
 * NATS"), also served as `ferry/transport/nats`. Importing it registers
 * `nats://` as an RPC target; the NATS client (`@nats-io/transport-node`, an
 * optional peer) loads only when such a URL is used.
 */
import { registerTransportScheme } from "../../rpc/transport-registry.js";

registerTransportScheme("nats", () => import("./nats-scheme.js").then((m) => m.natsScheme));
