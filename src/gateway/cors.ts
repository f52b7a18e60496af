export { CorsPolicy, type CorsOptions } from "../util/cors.js";
