import { defineConfig } from 'tsup';

// The workspace packages are bundled into dist (they are not published), so the
// tarball from `npm pack` installs anywhere with only its npm dependencies (koffi, re2js, yaml, bcryptjs).
const bundled = ['@org/metricserver-core', '@org/metricserver-prom-format'];

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: { resolve: bundled },
    sourcemap: true,
    clean: true,
    target: 'node20',
    noExternal: bundled,
    external: ['koffi', 're2js'],
  },
  {
    // Split: the bin's first lines (relaunch.ts) run before the server's chunk is loaded.
    entry: { bin: 'src/bin.ts' },
    format: ['esm'],
    splitting: true,
    sourcemap: true,
    clean: false,
    target: 'node20',
    noExternal: bundled,
    external: ['koffi', 're2js'],
    banner: { js: '#!/usr/bin/env node' },
  },
]);
