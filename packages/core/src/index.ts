// Public API of @org/metricserver-core: everything that touches the runsc side.

export * from './discovery/index.js';
export * from './errors/index.js';
export * from './filter/index.js';
export * from './fs/index.js';
export * from './lock/index.js';
export * from './registry/index.js';
export * from './sandbox/index.js';
export * from './urpc/index.js';
export * from './verifier/index.js';
