export {
  callUrpc,
  callUrpcReply,
  callUrpcWith,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_URPC_TIMEOUT_MS,
  decodeEnvelope,
  encodeUrpcRequest,
  type UrpcCallOptions,
  type UrpcReply,
  type UrpcTakeOptions,
} from './client.js';
export { UrpcConnection, UrpcConnectionBudget, type UrpcConnectionOptions } from './connection.js';
export { type CallCut, cutText } from './cut.js';
export {
  UrpcClosedError,
  UrpcConnectError,
  UrpcError,
  type UrpcErrorKind,
  UrpcProtocolError,
  UrpcRemoteError,
  UrpcTimeout,
  UrpcTooLarge,
} from './errors.js';
export {
  type ExportReading,
  exportRequest,
  METHOD_EXPORT,
  readExportReply,
  readWholeExportReply,
} from './export-reply.js';
export {
  type ExportMetricsOptions,
  exportMetrics,
  getRegisteredMetrics,
  METHOD_GET_REGISTERED,
} from './methods.js';
