export {
  type DiscoveryFs,
  discoveryFsFrom,
  type FileStat,
  nodeFs,
  type PromisesFsLike,
  toFileStat,
} from './discovery-fs.js';
