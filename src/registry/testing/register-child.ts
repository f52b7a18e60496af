/**
 * A process that registers one instance and then idles until killed — used
 * by tests to show that an instance whose process dies without
 * deregistering disappears after its TTL.
 *
 * Usage: node --import tsx register-child.ts <registry-url> <service> <instanceId> <ttlMs>
 * Prints "registered" once the registration is written.
 */
import { createRegistry } from "../create-registry.js";

const [url, service, instanceId, ttl] = process.argv.slice(2);
if (url === undefined || service === undefined || instanceId === undefined || ttl === undefined) {
  console.error("usage: register-child.ts <registry-url> <service> <instanceId> <ttlMs>");
  process.exit(2);
}
const registry = await createRegistry(url);
await registry.register({ service, instanceId, endpoints: [{ transport: "grpc", url: "grpc://127.0.0.1:5999" }] }, { ttlMs: Number(ttl) });
process.stdout.write("registered\n");
setInterval(() => undefined, 60_000);
