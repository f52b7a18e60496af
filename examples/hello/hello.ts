// The README's example: a typed service and its client over gRPC.
import { Code, createClient, createServer, FerryError } from "ferry";
import { InventoryService } from "../shop/gen/shop/v1/inventory_pb.js";

const server = createServer().service(InventoryService, {
  getProduct({ sku }) {
    if (sku !== "KB-001") throw new FerryError(Code.NOT_FOUND, `unknown SKU "${sku}"`);
    return { sku, name: "Mechanical keyboard", priceCents: 8900n, stock: 25 };
  },
});
const { url } = await server.listen("grpc://127.0.0.1:0");

const inventory = createClient(InventoryService, url);
const product = await inventory.getProduct({ sku: "KB-001" }, { timeoutMs: 1000 });
console.log(product.name, product.priceCents); // Mechanical keyboard 8900n

try {
  await inventory.getProduct({ sku: "NOPE" });
} catch (err) {
  if (err instanceof FerryError) console.log(err.code === Code.NOT_FOUND, err.rawMessage); // true unknown SKU "NOPE"
}
await server.shutdown();
