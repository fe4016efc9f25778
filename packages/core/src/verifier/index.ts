export { Verifier, MAX_SNAPSHOT_AGE_SECONDS } from './verifier.js';
export { RegistrationError, VerifyRejection, type VerifyRejectionCode, type VerifyResult } from './errors.js';
export { snapshotDecoderFor } from './decoder.js';
