export * from './model.js';
export { DecodeError } from './errors.js';
export * from './json.js';
export * from './time.js';
export * from './number.js';
export * from './escape.js';
export * from './names.js';
export * from './decode.js';
export * from './writer.js';
