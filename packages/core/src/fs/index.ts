export { type DiscoveryFs, type FileStat, type PromisesFsLike, discoveryFsFrom, nodeFs, toFileStat } from './discovery-fs.js';
