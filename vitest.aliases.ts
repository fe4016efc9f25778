// Unit tests import sibling workspace packages from source, so a test run
// never depends on a stale dist/. e2e/ deliberately uses the built CLI instead.
import { fileURLToPath } from 'node:url';

const src = (pkg: string): string => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export const workspaceAliases: Record<string, string> = {
  '@org/metricserver-prom-format': src('prom-format'),
  '@org/metricserver-core': src('core'),
  '@org/metricserver-fake-sandbox': src('fake-sandbox'),
  '@org/metricserver-server': src('server'),
};
