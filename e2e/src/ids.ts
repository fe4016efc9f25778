// A short per-process tag so parallel test runs on one host (and other
// engineers' sandboxes) never share sandbox IDs or cgroup names.
export function runTag(): string {
  return (process.pid % 1296).toString(36).padStart(2, '0');
}
