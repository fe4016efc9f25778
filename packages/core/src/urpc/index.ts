export {
  callUrpc,
  callUrpcReply,
  callUrpcWith,
  decodeEnvelope,
  encodeUrpcRequest,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_URPC_TIMEOUT_MS,
  type UrpcCallOptions,
  type UrpcReply,
  type UrpcTakeOptions,
} from './client.js';
export { UrpcConnection, UrpcConnectionBudget, type UrpcConnectionOptions } from './connection.js';
export {
  UrpcError,
  UrpcTimeout,
  UrpcTooLarge,
  UrpcRemoteError,
  UrpcProtocolError,
  UrpcConnectError,
  UrpcClosedError,
  type UrpcErrorKind,
} from './errors.js';
export {
  exportMetrics,
  getRegisteredMetrics,
  METHOD_EXPORT,
  METHOD_GET_REGISTERED,
  type ExportMetricsOptions,
} from './methods.js';
export { type CallCut, cutText } from './cut.js';
