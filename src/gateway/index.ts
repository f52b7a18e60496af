export { createGateway, type Gateway, type GatewayJsonRoute, type GatewayOptions, type GatewayRateLimitOptions } from "./gateway.js";
export { CorsPolicy, type CorsOptions } from "./cors.js";
export {
  createMemoryRateLimitStore,
  createRedisRateLimitStore,
  type MemoryRateLimitStoreOptions,
  type RateLimitStore,
  type RateLimitTake,
  type RedisEvalClient,
  type RedisRateLimitStoreOptions,
} from "./edge-rate-limit.js";
export { routesFromServices, type HttpRoute } from "./http-route.js";
export { PathTemplate } from "./path-template.js";
export { createOpenApiDocument, type OpenApiOptions } from "./openapi-document.js";
export { createAsyncApiDocument, type AsyncApiOptions } from "./asyncapi-document.js";
export type { GatewayErrorFormat } from "./gateway-error-body.js";
