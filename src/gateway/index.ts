export { createGateway, type Gateway, type GatewayOptions } from "./gateway.js";
export { routesFromServices, type HttpRoute } from "./http-route.js";
export { PathTemplate } from "./path-template.js";
