export { snapshotDecoderFor } from './decoder.js';
export { RegistrationError, VerifyRejection, type VerifyRejectionCode, type VerifyResult } from './errors.js';
export { MAX_SNAPSHOT_AGE_SECONDS, Verifier } from './verifier.js';
