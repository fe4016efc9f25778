export { ExpectedError } from './expected-error.js';
