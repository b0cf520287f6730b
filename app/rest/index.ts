/** proofbook's REST gateway (Cosmos SDK gRPC-gateway routes and JSON on 1317); see server.ts. */
export { startRestServer, DEFAULT_API_ADDRESS } from './server.js';
export type { RestServer, RestServerOptions, RestHandler } from './server.js';
export { loadRoutes, parseTemplate, matchRoute } from './routes.js';
export type { Route, RouteTable } from './routes.js';
export { staticHandler } from './static.js';
