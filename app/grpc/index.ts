/** proofbook's gRPC API server; see server.ts. */
export {
  startGrpcServer, createDispatcher, txLookup, parseHeightHeader, rpcQuery, statusFromQueryError, validatePageRequest, loadPackageDefinition, reflectionPackage,
  GrpcStatusError, DEFAULT_GRPC_ADDRESS, MAX_PAGE_LIMIT, PROTO_DIR, DESCRIPTORS_FILE,
} from './server.js';
export type { GrpcServer, GrpcServerOptions, QueryFn, AbciQueryResult, Dispatcher, DispatcherOptions, RawMethod, RawResult, CallMeta } from './server.js';
