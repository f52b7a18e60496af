export { connectClient } from "../ferry-inproc/client.js";
