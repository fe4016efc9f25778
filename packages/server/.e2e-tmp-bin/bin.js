// src/flags.ts
var SERVER_FLAGS = [
  { name: "root", kind: "value", placeholder: "dir", help: "runsc root directory holding the container state files (default: $XDG_RUNTIME_DIR/runsc if XDG_RUNTIME_DIR is set, else /var/run/runsc)" },
  { name: "metric-server", kind: "value", placeholder: "addr", help: "required: address to serve on: host:port (one interface), :port (all interfaces) or an absolute unix socket path; %RUNTIME_ROOT% is replaced by the root directory" },
  { name: "exporter-prefix", kind: "value", placeholder: "prefix", help: 'prefix of every sandbox metric name; meta metrics get <prefix>meta_ (default "runsc_", may be empty)' },
  { name: "pid-file", kind: "value", placeholder: "path", help: "after binding, write this server's PID there (no trailing newline, mode 0644); removed on shutdown" },
  { name: "allow-profiling", kind: "bool", help: "expose /runsc-metrics/profile-cpu (V8 .cpuprofile JSON) and /runsc-metrics/profile-heap (.heapsnapshot); development only" },
  { name: "allow-unknown-root", kind: "bool", help: "keep running when the root directory does not exist, cannot be read, or disappears later" },
  { name: "per-sandbox-timeout", kind: "value", placeholder: "duration", help: "deadline of one sandbox export, e.g. 8s or 2500ms; never more than what is left of the 30s scrape (default 8s)" },
  { name: "scrape-concurrency", kind: "value", placeholder: "n", help: "sandboxes queried at once within one scrape (default 256)" },
  { name: "max-response-bytes", kind: "value", placeholder: "bytes", help: "largest urpc reply accepted from one sandbox; bigger ones count as broken (default 16777216 = 16 MiB)" },
  { name: "max-concurrent-scrapes", kind: "value", placeholder: "n", help: "concurrent /metrics requests served; more get 429 with Retry-After: 1 (default 8)" }
];
var IGNORED_RUNSC_FLAGS = "EXPERIMENTAL-xdp:v EXPERIMENTAL-xdp-need-wakeup:b TESTONLY-afs-syscall-panic:b TESTONLY-allow-packet-endpoint-write:b TESTONLY-autosave-image-path:v TESTONLY-autosave-resume:b TESTONLY-test-name-env:v TESTONLY-unsafe-nonroot:b allow-flag-override:b alsologtostderr:b app-huge-pages:b buffer-pooling:b cgroupfs:b coverage-fd:v coverage-report:v cpu-num-from-quota:b dcache:v debug:b debug-command:v debug-log:v debug-log-fd:v debug-log-format:v debug-to-user-log:b directfs:b enable-core-tags:b fdlimit:v file-access:v file-access-mounts:v fsgofer-host-uds:b fuse:b gso:b gvisor-gro:b host-fifo:v host-uds:v ignore-cgroups:b iouring:b lisafs:b log:v log-fd:v log-format:v log-packets:b net-disconnect-ok:b net-raw:b network:v network-processors-per-channel:v num-network-channels:v nvproxy:b nvproxy-docker:b nvproxy-driver-version:v oci-seccomp:b overlay:b overlay2:v panic-log:v panic-log-fd:v panic-signal:v pcap-log:v platform:v platform_device_path:v pod-init-config:v profile:b profile-block:v profile-cpu:v profile-heap:v profile-mutex:v profiling-metrics:v profiling-metrics-log:v profiling-metrics-rate-us:v qdisc:v ref-leak-mode:v reproduce-nat:b reproduce-nftables:b rootless:b rx-checksum-offload:b software-gso:b strace:b strace-event:b strace-log-size:v strace-syscalls:v systemd-cgroup:b tpuproxy:b trace:v traceback:v tx-checksum-offload:b version:b vfs2:b watchdog-action:v";
var IGNORED_FLAGS = IGNORED_RUNSC_FLAGS.split(" ").map((spec) => {
  const [name = "", kind] = spec.split(":");
  return { name, kind: kind === "b" ? "bool" : "value", help: "runsc global flag, accepted and ignored" };
});
var table = /* @__PURE__ */ new Map();
for (const f of SERVER_FLAGS) table.set(f.name, { ...f, ignored: false });
for (const f of IGNORED_FLAGS) table.set(f.name, { ...f, ignored: true });
function lookupFlag(name) {
  return table.get(name);
}
function helpText() {
  const lines = [
    "Usage: runsc-metric-server [flags]",
    "       runsc-metric-server -root=<root dir> -metric-server=<addr> metric-server [-exporter-prefix=<runsc_>] [flags]",
    "",
    "Implements the Prometheus metrics HTTP endpoint of gVisor sandboxes (drop-in for `runsc metric-server`).",
    "Flags use Go syntax: -x, --x, -x=v, --x v; booleans may be given bare or as -x=true|false.",
    "",
    "Flags:"
  ];
  for (const f of SERVER_FLAGS) {
    const head = f.kind === "bool" ? `  --${f.name}` : `  --${f.name}=<${f.placeholder ?? "value"}>`;
    lines.push(head, `        ${f.help}`);
  }
  lines.push(
    "  -h, --help",
    "        print this help and exit 0",
    "",
    "Accepted and ignored (runsc global flags without meaning here):",
    wrap(IGNORED_FLAGS.map((f) => `--${f.name}`).join(" "), 110, "  "),
    "",
    "Exit status: 0 after a graceful shutdown (SIGINT, SIGTERM, SIGQUIT, or the root directory disappeared),",
    "2 for a malformed flag before the subcommand, 128 for every other failure (one line on stderr)."
  );
  return `${lines.join("\n")}
`;
}
function wrap(text, width, indent) {
  const out = [];
  let line = indent;
  for (const word of text.split(" ")) {
    if (line.length + word.length + 1 > width && line.trim() !== "") {
      out.push(line.trimEnd());
      line = indent;
    }
    line += `${word} `;
  }
  if (line.trim() !== "") out.push(line.trimEnd());
  return out.join("\n");
}

// src/args.ts
var ArgsError = class extends Error {
  constructor(message, exitCode) {
    super(message);
    this.exitCode = exitCode;
    this.name = "ArgsError";
  }
};
var SUBCOMMAND = "metric-server";
function parseArgs(argv) {
  const flags = /* @__PURE__ */ new Map();
  const ignored = [];
  const first = parseFlagRun(argv, 0, flags, ignored, 2);
  if (first.help) return { kind: "help" };
  let i = first.next;
  if (i < argv.length) {
    const sub = argv[i];
    if (sub !== SUBCOMMAND) {
      throw new ArgsError(`unknown subcommand ${JSON.stringify(sub)}: the only subcommand is "${SUBCOMMAND}"`, 128);
    }
    const second = parseFlagRun(argv, i + 1, flags, ignored, 128);
    if (second.help) return { kind: "help" };
    i = second.next;
    if (i < argv.length) {
      throw new ArgsError(`unexpected argument ${JSON.stringify(argv[i])} after the ${SUBCOMMAND} flags`, 128);
    }
  }
  return { kind: "run", flags, ignored };
}
function parseFlagRun(argv, start, out, ignored, exitCode) {
  let i = start;
  while (i < argv.length) {
    const arg = argv[i];
    if (arg.length < 2 || arg[0] !== "-") break;
    let body = arg.slice(1);
    if (body[0] === "-") {
      body = body.slice(1);
      if (body === "") return { next: i + 1, help: false };
    }
    if (body === "" || body[0] === "-" || body[0] === "=") throw new ArgsError(`bad flag syntax: ${arg}`, exitCode);
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? void 0 : body.slice(eq + 1);
    i++;
    if (name === "h" || name === "help") return { next: i, help: true };
    const def = lookupFlag(name);
    if (!def) throw new ArgsError(`flag provided but not defined: -${name} (see --help)`, exitCode);
    let value;
    if (def.kind === "bool") {
      if (inline === void 0) value = true;
      else {
        const b = parseGoBool(inline);
        if (b === void 0) throw new ArgsError(`invalid boolean value ${JSON.stringify(inline)} for -${name}: parse error`, exitCode);
        value = b;
      }
    } else if (inline !== void 0) {
      value = inline;
    } else {
      if (i >= argv.length) throw new ArgsError(`flag needs an argument: -${name}`, exitCode);
      value = argv[i];
      i++;
    }
    if (def.ignored) ignored.push(name);
    else out.set(name, value);
  }
  return { next: i, help: false };
}
function parseGoBool(s) {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return void 0;
}

// src/config.ts
var DEFAULTS = {
  exporterPrefix: "runsc_",
  /** Go's metricsExportTimeout: the whole scrape. */
  scrapeDeadlineMs: 3e4,
  /**
   * Go's per-sandbox floor. With every sandbox in flight at once a stalled one
   * costs only its own slot, so 8 s caps how long one scrape waits for it while
   * leaving a healthy-but-loaded sandbox plenty of time (real exports take ms).
   */
  perSandboxTimeoutMs: 8e3,
  /** Sockets are cheap in Node: query (nearly) all sandboxes at once; 256 bounds fds per scrape. */
  scrapeConcurrency: 256,
  /** A real sandbox's export is tens of KiB; 16 MiB leaves 100x headroom and bounds memory per sandbox. */
  maxResponseBytes: 16 << 20,
  /** Prometheus HA pairs scrape concurrently; 8 covers that with room while bounding work. */
  maxConcurrentScrapes: 8,
  /** Go's verifyLoopInterval. */
  verifyLoopIntervalMs: 2e4,
  /** In-flight requests get this long to finish after a shutdown signal. */
  shutdownGraceMs: 5e3
};
var ConfigError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "ConfigError";
  }
};
var RUNTIME_ROOT_PLACEHOLDER = "%RUNTIME_ROOT%";
function defaultRoot(env = process.env) {
  const xdg = env.XDG_RUNTIME_DIR;
  return xdg ? `${xdg}/runsc` : "/var/run/runsc";
}
function resolveConfig(c) {
  if (c.metricServer === "") {
    throw new ConfigError("config does not specify the metric server address (--metric-server)");
  }
  if (c.metricServer.includes("%ID%")) {
    throw new ConfigError(
      `metric server address contains '%ID%': ${c.metricServer}; this should have been replaced by the parent process`
    );
  }
  const positive = (name, v, def, min = 1) => {
    const n = v ?? def;
    if (!Number.isFinite(n) || n < min || !Number.isInteger(n)) {
      throw new ConfigError(`${name} must be an integer >= ${min}, got ${String(v)}`);
    }
    return n;
  };
  return {
    root: c.root,
    address: c.metricServer.split(RUNTIME_ROOT_PLACEHOLDER).join(c.root),
    exporterPrefix: c.exporterPrefix ?? DEFAULTS.exporterPrefix,
    pidFile: c.pidFile === "" ? void 0 : c.pidFile,
    allowProfiling: c.allowProfiling ?? false,
    allowUnknownRoot: c.allowUnknownRoot ?? false,
    perSandboxTimeoutMs: positive("--per-sandbox-timeout (ms)", c.perSandboxTimeoutMs, DEFAULTS.perSandboxTimeoutMs),
    scrapeConcurrency: positive("--scrape-concurrency", c.scrapeConcurrency, DEFAULTS.scrapeConcurrency),
    maxResponseBytes: positive("--max-response-bytes", c.maxResponseBytes, DEFAULTS.maxResponseBytes, 1024),
    maxConcurrentScrapes: positive("--max-concurrent-scrapes", c.maxConcurrentScrapes, DEFAULTS.maxConcurrentScrapes),
    verifyLoopIntervalMs: positive("verifyLoopIntervalMs", c.verifyLoopIntervalMs, DEFAULTS.verifyLoopIntervalMs),
    shutdownGraceMs: positive("shutdownGraceMs", c.shutdownGraceMs, DEFAULTS.shutdownGraceMs, 0),
    scrapeDeadlineMs: positive("scrapeDeadlineMs", c.scrapeDeadlineMs, DEFAULTS.scrapeDeadlineMs)
  };
}
function configFromFlags(flags, env = process.env) {
  const str = (name) => {
    const v = flags.get(name);
    return typeof v === "string" ? v : void 0;
  };
  const bool = (name) => flags.get(name) === true;
  const int2 = (name) => {
    const v = str(name);
    if (v === void 0) return void 0;
    if (!/^\d+$/.test(v)) throw new ConfigError(`invalid value ${JSON.stringify(v)} for --${name}: want a positive integer`);
    return Number(v);
  };
  const metricServer = str("metric-server") ?? "";
  if (metricServer === "") {
    throw new ConfigError("config does not specify the metric server address (--metric-server); see --help");
  }
  const timeout = str("per-sandbox-timeout");
  return {
    root: str("root") ?? defaultRoot(env),
    metricServer,
    exporterPrefix: str("exporter-prefix") ?? DEFAULTS.exporterPrefix,
    pidFile: str("pid-file"),
    allowProfiling: bool("allow-profiling"),
    allowUnknownRoot: bool("allow-unknown-root"),
    perSandboxTimeoutMs: timeout === void 0 ? void 0 : parseGoDurationMs(timeout, "per-sandbox-timeout"),
    scrapeConcurrency: int2("scrape-concurrency"),
    maxResponseBytes: int2("max-response-bytes"),
    maxConcurrentScrapes: int2("max-concurrent-scrapes")
  };
}
var UNIT_MS = { ns: 1e-6, us: 1e-3, "\xB5s": 1e-3, ms: 1, s: 1e3, m: 6e4, h: 36e5 };
function parseGoDurationMs(text, flag) {
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (UNIT_MS[m[2]] ?? 0);
    pos = re.lastIndex;
  }
  if (text === "" || pos !== text.length) {
    throw new ConfigError(`invalid value ${JSON.stringify(text)} for --${flag}: want a duration such as 8s or 2500ms`);
  }
  return Math.ceil(total);
}

// src/log.ts
var stderrSink = (line) => {
  process.stderr.write(`${line}
`);
};
function createLogger(sink = stderrSink) {
  const emit = (level, msg, fields) => {
    const record = { time: (/* @__PURE__ */ new Date()).toISOString(), level, msg };
    if (fields) {
      for (const [k, v] of Object.entries(fields)) if (v !== void 0) record[k] = v;
    }
    sink(JSON.stringify(record));
  };
  return {
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f)
  };
}

// src/core-backend.ts
import {
  SandboxRegistry,
  Verifier,
  exportMetrics,
  isProcessAlive
} from "@org/metricserver-core";
import { nowTimestamp } from "@org/metricserver-prom-format";
var CoreTarget = class {
  constructor(view, verifier, maxResponseBytes) {
    this.view = view;
    this.verifier = verifier;
    this.maxResponseBytes = maxResponseBytes;
    this.meta = metaOf(view);
  }
  meta;
  get id() {
    return this.view.id;
  }
  get labels() {
    return this.view.labels;
  }
  setView(view) {
    if (view === this.view) return;
    this.view = view;
    this.meta = metaOf(view);
  }
  async exportVerified(filter, matcher, signal) {
    const snapshot = await exportMetrics(this.view.controlSocketPath, filter, {
      signal,
      maxResponseBytes: this.maxResponseBytes,
      ...matcher ? { matchesFilter: (name) => matcher.test(name) } : {}
    });
    const verdict = this.verifier.verify(snapshot, nowTimestamp());
    if (!verdict.ok) throw new Error(verdict.reason.toString());
    return snapshot;
  }
  isRunning() {
    return isProcessAlive(this.view.pid);
  }
};
function metaOf(view) {
  return {
    metricMetadata: view.metricMetadata,
    capabilities: view.capabilities,
    specMetadata: view.specMetadata,
    creationTimeSeconds: view.creationTimeSeconds
  };
}
function coreLogger(log) {
  const fields = (f) => {
    if (!f) return void 0;
    const out = {};
    for (const [k, v] of Object.entries(f)) {
      out[k] = typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? v : String(v);
    }
    return out;
  };
  return { info: (m, f) => log.info(m, fields(f)), warn: (m, f) => log.warn(m, fields(f)) };
}
function createCoreBackend(config, log) {
  const registry = new SandboxRegistry({
    root: config.root,
    serverAddress: config.address,
    log: coreLogger(log),
    // A registration the Verifier refuses is a load error: the sandbox is not served.
    prepare: (view) => new CoreTarget(view, new Verifier(view.registration), config.maxResponseBytes)
  });
  return {
    refresh: async () => {
      await registry.refresh();
    },
    targets: () => registry.served().map((e) => {
      e.state.setView(e.view);
      return e.state;
    }),
    totalSandboxes: () => registry.totalRegistered,
    stop: () => void registry.close()
  };
}

// src/lifecycle.ts
import { promises as fsp2, unlinkSync as unlinkSync2 } from "fs";

// src/bind.ts
import { promises as fsp, unlinkSync, statSync } from "fs";
import net from "net";
var BindError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "BindError";
  }
};
var MAX_UNIX_PATH_BYTES = 107;
async function bindServer(server, address, log) {
  return address.startsWith("/") ? bindUnix(server, address, log) : bindTcp(server, address, log);
}
function splitHostPort(address) {
  let host;
  let portText;
  if (address.startsWith("[")) {
    const end = address.indexOf("]");
    if (end < 0) throw new BindError(`cannot listen on TCP address ${JSON.stringify(address)}: missing ']' in address`);
    host = address.slice(1, end);
    if (address[end + 1] !== ":") throw new BindError(`cannot listen on TCP address ${JSON.stringify(address)}: missing port in address`);
    portText = address.slice(end + 2);
  } else {
    const colon = address.lastIndexOf(":");
    if (colon < 0) {
      throw new BindError(
        `cannot listen on TCP address ${JSON.stringify(address)}: missing port in address (unix sockets need an absolute path)`
      );
    }
    host = address.slice(0, colon);
    if (host.includes(":")) throw new BindError(`cannot listen on TCP address ${JSON.stringify(address)}: too many colons in address (use [ipv6]:port)`);
    portText = address.slice(colon + 1);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new BindError(`cannot listen on TCP address ${JSON.stringify(address)}: invalid port ${JSON.stringify(portText)}`);
  }
  return { host, port: Number(portText) };
}
async function bindTcp(server, address, log) {
  const { host, port } = splitHostPort(address);
  if (address.startsWith(":")) {
    log.warn("Binding on all interfaces. This will allow anyone to list all containers on your machine!", { address });
  }
  await listen(server, host === "" ? { port } : { host, port }).catch((err) => {
    throw new BindError(`cannot listen on TCP address ${JSON.stringify(address)}: ${errText(err)}`);
  });
  const a = server.address();
  const boundPort = a !== null && typeof a === "object" ? a.port : port;
  const shownHost = host === "" ? "" : host.includes(":") ? `[${host}]` : host;
  return { display: `${shownHost}:${boundPort}`, kind: "tcp", port: boundPort, removeSocketFile: () => {
  } };
}
async function bindUnix(server, path, log) {
  if (Buffer.byteLength(path) > MAX_UNIX_PATH_BYTES) {
    throw new BindError(
      `cannot listen on unix domain socket ${JSON.stringify(path)}: path is ${Buffer.byteLength(path)} bytes, the limit is ${MAX_UNIX_PATH_BYTES}`
    );
  }
  const before = await fsp.lstat(path).catch(() => void 0);
  if (before) {
    if (!before.isSocket()) {
      throw new BindError(`cannot listen on unix domain socket ${JSON.stringify(path)}: a file that is not a socket exists there; remove it or choose another path`);
    }
    const live = await probeSocket(path);
    if (live === "live") {
      throw new BindError(`cannot listen on unix domain socket ${JSON.stringify(path)}: another process is serving on it (is another metric server running?)`);
    }
    log.info("Removing stale unix socket left by a previous server; taking it over.", { path });
    await fsp.unlink(path).catch((err) => {
      throw new BindError(`cannot remove stale unix domain socket ${JSON.stringify(path)}: ${errText(err)}`);
    });
  }
  await listen(server, { path }).catch((err) => {
    throw new BindError(`cannot listen on unix domain socket ${JSON.stringify(path)}: ${errText(err)}`);
  });
  let ours;
  try {
    const st = statSync(path);
    ours = { dev: st.dev, ino: st.ino };
  } catch (err) {
    throw new BindError(`cannot stat our own unix domain socket ${JSON.stringify(path)}: ${errText(err)}`);
  }
  log.info("Bound on socket file which we own; it will be deleted on server shutdown.", { path });
  await fsp.chmod(path, 511).catch((err) => log.warn("Cannot chmod our unix socket to 0777", { path, error: errText(err) }));
  let removed = false;
  return {
    display: path,
    kind: "unix",
    port: void 0,
    removeSocketFile: () => {
      if (removed) return;
      removed = true;
      try {
        const st = statSync(path);
        if (st.dev === ours.dev && st.ino === ours.ino) unlinkSync(path);
      } catch (err) {
        if (err.code !== "ENOENT") log.warn("Cannot remove UDS", { path, error: errText(err) });
      }
    }
  };
}
function probeSocket(path) {
  return new Promise((resolve) => {
    const sock = net.connect({ path });
    const done = (v) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done("live"), 1e3);
    sock.once("connect", () => done("live"));
    sock.once("error", () => done("stale"));
  });
}
function listen(server, opts) {
  return new Promise((resolve, reject) => {
    const onError = (err) => {
      server.off("listening", onListening);
      reject(err);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(opts);
  });
}
function errText(err) {
  return err instanceof Error ? err.message : String(err);
}

// src/http.ts
import http from "http";

// src/url.ts
var UrlEscapeError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "UrlEscapeError";
  }
};
var HEX = /^[0-9a-fA-F]{2}$/;
function unescape(s, plusIsSpace) {
  if (!s.includes("%") && !(plusIsSpace && s.includes("+"))) return s;
  const bytes = [];
  for (let i = 0; i < s.length; ) {
    const c = s[i];
    if (c === "%") {
      const hex = s.slice(i + 1, i + 3);
      if (!HEX.test(hex)) throw new UrlEscapeError(`invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}`);
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else if (c === "+" && plusIsSpace) {
      bytes.push(32);
      i++;
    } else {
      const cp = s.codePointAt(i);
      const len = cp > 65535 ? 2 : 1;
      for (const b of Buffer.from(s.slice(i, i + len), "utf8")) bytes.push(b);
      i += len;
    }
  }
  return Buffer.from(bytes).toString("utf8");
}
function parseQuery(raw) {
  const values = /* @__PURE__ */ new Map();
  let error;
  for (const pair of raw.split("&")) {
    if (pair === "") continue;
    if (pair.includes(";")) {
      error ??= "invalid semicolon separator in query";
      continue;
    }
    const eq = pair.indexOf("=");
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? "" : pair.slice(eq + 1);
    try {
      const key = unescape(rawKey, true);
      const value = unescape(rawValue, true);
      const list = values.get(key);
      if (list) list.push(value);
      else values.set(key, [value]);
    } catch (err) {
      error ??= err.message;
    }
  }
  return { values, error };
}
function firstValue(q, key) {
  return q.values.get(key)?.[0] ?? "";
}
function cleanPath(p) {
  if (p === "") return "/";
  const rooted = p[0] === "/" ? p : `/${p}`;
  const out = [];
  for (const seg of rooted.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  let cleaned = `/${out.join("/")}`;
  if (rooted.endsWith("/") && cleaned !== "/") cleaned += "/";
  return cleaned;
}
function escapePath(p) {
  return encodeURI(p).replace(/\?/g, "%3F").replace(/#/g, "%23");
}
function splitTarget(target) {
  let t = target;
  const abs = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(t);
  if (abs) t = t.slice(abs[0].length) || "/";
  const hash = t.indexOf("#");
  if (hash >= 0) t = t.slice(0, hash);
  const q = t.indexOf("?");
  return q < 0 ? { rawPath: t, rawQuery: "" } : { rawPath: t.slice(0, q), rawQuery: t.slice(q + 1) };
}

// src/http.ts
var TEXT_PLAIN = "text/plain; charset=utf-8";
function sendError(res, status, message, extraHeaders) {
  const body = `${message}
`;
  res.writeHead(status, {
    "Content-Type": TEXT_PLAIN,
    "X-Content-Type-Options": "nosniff",
    "Content-Length": Buffer.byteLength(body),
    ...extraHeaders
  });
  res.end(body);
}
function sendBody(res, status, body, contentType) {
  res.writeHead(status, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}
var InFlight = class {
  active = /* @__PURE__ */ new Set();
  waiters = [];
  get size() {
    return this.active.size;
  }
  add(c) {
    this.active.add(c);
  }
  delete(c) {
    this.active.delete(c);
    if (this.active.size === 0) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }
  idle() {
    if (this.active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  abortAll(reason) {
    for (const c of this.active) c.abort(new Error(reason));
  }
};
function createRequestListener(opts) {
  const { log, route, inFlight } = opts;
  return (req, res) => {
    const started = process.hrtime.bigint();
    const method = req.method ?? "GET";
    const { rawPath, rawQuery } = splitTarget(req.url ?? "/");
    const controller = new AbortController();
    inFlight.add(controller);
    let loggedPath = rawPath;
    res.once("close", () => {
      inFlight.delete(controller);
      if (!res.writableFinished) controller.abort(new Error("client went away"));
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      log.info("request", {
        method,
        path: loggedPath,
        status: res.statusCode,
        durationMs: Math.round(durationMs * 10) / 10,
        ...res.writableFinished ? {} : { aborted: true }
      });
    });
    let path;
    try {
      path = unescape(rawPath, false);
    } catch (err) {
      sendError(res, 400, `400 Bad Request: ${err.message}`);
      return;
    }
    loggedPath = path;
    const cleaned = cleanPath(path);
    if (cleaned !== path) {
      const location = escapePath(cleaned) + (rawQuery === "" ? "" : `?${rawQuery}`);
      const body = method === "GET" || method === "HEAD" ? `<a href="${location.replace(/"/g, "&quot;")}">Moved Permanently</a>.

` : "";
      res.writeHead(301, { Location: location, "Content-Type": "text/html; charset=utf-8", "Content-Length": Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const info = { method, path, rawQuery, signal: controller.signal };
    let result;
    try {
      result = route(path)(req, res, info);
    } catch (err) {
      onHandlerError(err);
      return;
    }
    if (result) result.catch(onHandlerError);
    function onHandlerError(err) {
      log.error("handler failed", {
        method,
        path,
        error: err instanceof Error ? err.message : String(err),
        stack: err instanceof Error ? err.stack : void 0
      });
      if (!res.headersSent) sendError(res, 500, "internal server error");
      else res.destroy();
    }
  };
}
var HTTP_LIMITS = {
  /** Slowloris: the whole header block must arrive within 10 s. */
  headersTimeoutMs: 1e4,
  /** The whole request (headers + body) within 60 s, as Go's read timeout. */
  requestTimeoutMs: 6e4,
  /** Idle keep-alive connections close after 30 s (Prometheus reconnects cheaply). */
  keepAliveTimeoutMs: 3e4,
  /**
   * Socket inactivity (no bytes either way) kills a connection after 75 s: bounds a
   * client that stops reading; above the CPU profile's 60 s silence.
   */
  socketTimeoutMs: 75e3,
  /** Connections beyond this are refused by the kernel backlog / closed at once. */
  maxConnections: 1024
};
function createHttpServer(listener) {
  const server = http.createServer(
    {
      headersTimeout: HTTP_LIMITS.headersTimeoutMs,
      requestTimeout: HTTP_LIMITS.requestTimeoutMs,
      keepAliveTimeout: HTTP_LIMITS.keepAliveTimeoutMs,
      maxHeaderSize: 16 * 1024
    },
    listener
  );
  server.timeout = HTTP_LIMITS.socketTimeoutMs;
  server.maxConnections = HTTP_LIMITS.maxConnections;
  server.on("clientError", (err, socket) => {
    if (socket.writable && err.code !== "ECONNRESET") {
      socket.end("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request");
    } else socket.destroy();
  });
  return server;
}

// src/profile.ts
import { Session } from "inspector";
import { getHeapSnapshot } from "v8";
function createProfiler() {
  let busy = false;
  return {
    get cpuBusy() {
      return busy;
    },
    async cpuProfile(durationMs, signal) {
      if (busy) throw new Error("a CPU profile is already running");
      busy = true;
      const session = new Session();
      session.connect();
      const post = (method, params) => new Promise(
        (resolve, reject) => session.post(method, params ?? {}, (err, res) => err ? reject(err) : resolve(res))
      );
      try {
        await post("Profiler.enable");
        await post("Profiler.start");
        const interrupted = await sleepUnlessAborted(Math.max(0, durationMs), signal);
        const { profile } = await post("Profiler.stop");
        return { json: JSON.stringify(profile), interrupted };
      } finally {
        session.disconnect();
        busy = false;
      }
    },
    heapSnapshot: () => getHeapSnapshot()
  };
}
function sleepUnlessAborted(ms, signal) {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(false);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
function cpuProfileDurationMs(secondsParam) {
  const DEFAULT_MS = 6e4 - 250;
  if (!/^[+-]?\d+$/.test(secondsParam)) return DEFAULT_MS;
  const s = Number(secondsParam);
  if (!Number.isSafeInteger(s) || s * 1e3 >= 6e4) return DEFAULT_MS;
  return Math.max(0, s * 1e3);
}

// src/routes/healthcheck.ts
var MAX_FORM_BYTES = 64 * 1024;
var HEALTHY_BODY = "runsc-metrics:OK";
var FormError = class extends Error {
};
function healthcheckHandler(app) {
  return async (req, res, info) => {
    if (app.isShuttingDown()) return sendError(res, 503, "server is shutting down");
    let root;
    try {
      const query = parseQuery(info.rawQuery);
      if (query.error !== void 0) throw new FormError(query.error);
      if (hasFormBody(req)) {
        const body = parseQuery(await readBody(req, MAX_FORM_BYTES));
        if (body.error !== void 0) throw new FormError(body.error);
        root = body.values.get("root")?.[0];
      }
      root ??= query.values.get("root")?.[0] ?? "";
    } catch (err) {
      if (err instanceof FormError) return sendError(res, 400, err.message);
      throw err;
    }
    if (root !== app.config.root) {
      return sendError(res, 400, `this metric server is configured to serve root directory: ${app.config.root}`);
    }
    sendBody(res, 200, HEALTHY_BODY, TEXT_PLAIN);
  };
}
function hasFormBody(req) {
  if (req.method !== "POST" && req.method !== "PUT" && req.method !== "PATCH") return false;
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  return type === "application/x-www-form-urlencoded";
}
function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(new FormError(`http: request body too large (limit ${limit} bytes)`));
        return;
      }
      chunks.push(c);
    });
    req.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.once("error", (e) => reject(new FormError(`cannot read request body: ${e.message}`)));
  });
}

// src/routes/index-page.ts
var INDEX_BODY = '<html><head><title>runsc metrics</title></head><body><p>You have reached the runsc metrics server page!</p><p>To see actual metric data, head over to <a href="/metrics">/metrics</a>.</p></body></html>';
var REWRITE_PREFIX = "/metrics?";
function indexHandler(metrics) {
  return (req, res, info) => {
    if (info.path === "/") {
      sendBody(res, 200, INDEX_BODY, "text/html; charset=utf-8");
      return;
    }
    if (info.path.startsWith(REWRITE_PREFIX)) {
      return metrics(req, res, { ...info, path: "/metrics", rawQuery: info.path.slice(REWRITE_PREFIX.length) });
    }
    sendError(res, 404, "path not found");
  };
}

// src/routes/metrics.ts
import { ExpositionWriter } from "@org/metricserver-prom-format";

// src/filters.ts
import { FilterError, compileRe2Filter } from "@org/metricserver-core";
function compileRe2(pattern) {
  try {
    return compileRe2Filter(pattern);
  } catch (e) {
    if (e instanceof FilterError) return void 0;
    throw e;
  }
}

// src/routes/metrics.ts
var METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
var METRICS_FILTER_PARAM = "runsc-sandbox-metrics-filter";
var CAPABILITY_FILTER_PARAM = "runsc-capability-filter";
function metricsHandler(app) {
  let active = 0;
  const idleWriters = [];
  return async (_req, res, info) => {
    const query = parseQuery(info.rawQuery);
    const metricsFilter = firstValue(query, METRICS_FILTER_PARAM);
    const capabilityFilter = firstValue(query, CAPABILITY_FILTER_PARAM);
    const metricsMatcher = metricsFilter === "" ? void 0 : compileRe2(metricsFilter);
    if (metricsFilter !== "" && metricsMatcher === void 0) {
      return sendError(res, 400, "provided metric filter is not a valid regular expression");
    }
    const capabilityMatcher = capabilityFilter === "" ? void 0 : compileRe2(capabilityFilter);
    if (capabilityFilter !== "" && capabilityMatcher === void 0) {
      return sendError(res, 400, "provided capability filter is not a valid regular expression");
    }
    if (active >= app.config.maxConcurrentScrapes) {
      return sendError(res, 429, `too many concurrent scrapes (limit ${app.config.maxConcurrentScrapes}); retry later`, {
        "Retry-After": "1"
      });
    }
    active++;
    const writer = idleWriters.pop() ?? new ExpositionWriter();
    try {
      const outcome = await app.scraper.scrape({ metricsFilter, metricsMatcher, capabilityMatcher }, info.signal);
      if (info.signal.aborted) return;
      res.writeHead(200, { "Content-Type": METRICS_CONTENT_TYPE });
      let skipped = 0;
      let firstSkip = "";
      try {
        await writer.write(
          res,
          {
            commentHeader: outcome.commentHeader,
            metricsWritten: /* @__PURE__ */ new Set(),
            onSkip: (s) => {
              if (skipped++ === 0) firstSkip = `${s.metric}: ${s.reason}`;
            }
          },
          outcome.snapshots
        );
        res.end();
      } catch (err) {
        app.log.warn("metrics response cut short", { error: err instanceof Error ? err.message : String(err) });
        res.destroy();
      }
      if (skipped > 0) app.log.warn("data points skipped by the writer", { count: skipped, first: firstSkip });
    } finally {
      idleWriters.push(writer);
      active--;
    }
  };
}

// src/routes/pid.ts
function pidHandler(app) {
  return (_req, res) => {
    if (app.isShuttingDown()) return sendError(res, 503, "server is shutting down");
    sendBody(res, 200, String(app.pid), TEXT_PLAIN);
  };
}

// src/routes/profile.ts
var SHUTTING_DOWN = "server is shutting down already";
function profileCpuHandler(app) {
  return async (_req, res, info) => {
    if (app.isShuttingDown()) return sendError(res, 503, SHUTTING_DOWN);
    const durationMs = cpuProfileDurationMs(firstValue(parseQuery(info.rawQuery), "seconds"));
    if (app.profiler.cpuBusy) {
      app.log.warn("CPU profile requested while another one is running; answering empty");
      res.writeHead(200, { "Content-Length": 0 });
      res.end();
      return;
    }
    res.writeHead(200, {
      "Content-Type": "application/json",
      "Content-Disposition": 'attachment; filename="runsc-metric-server.cpuprofile"'
    });
    res.flushHeaders();
    const { json, interrupted } = await app.profiler.cpuProfile(durationMs, info.signal);
    if (interrupted) app.log.warn("Profiling CPU interrupted.");
    else app.log.info("Profiling CPU done.", { durationMs });
    res.end(json);
  };
}
function profileHeapHandler(app) {
  return (_req, res, info) => {
    if (app.isShuttingDown()) return sendError(res, 503, SHUTTING_DOWN);
    res.writeHead(200, {
      "Content-Type": "application/json",
      "Content-Disposition": 'attachment; filename="runsc-metric-server.heapsnapshot"'
    });
    const snap = app.profiler.heapSnapshot();
    info.signal.addEventListener("abort", () => snap.destroy(), { once: true });
    snap.on("error", () => res.destroy());
    snap.pipe(res);
  };
}

// src/routes/router.ts
function buildRouter(app) {
  const metrics = metricsHandler(app);
  const routes = /* @__PURE__ */ new Map([
    ["/runsc-metrics/healthcheck", healthcheckHandler(app)],
    ["/runsc-metrics/pid", pidHandler(app)],
    ["/metrics", metrics]
  ]);
  if (app.config.allowProfiling) {
    app.log.warn("Profiling HTTP endpoints are exposed; this should only be used for development!");
    routes.set("/runsc-metrics/profile-cpu", profileCpuHandler(app));
    routes.set("/runsc-metrics/profile-heap", profileHeapHandler(app));
  }
  const fallback = indexHandler(metrics);
  return (path) => routes.get(path) ?? fallback;
}

// src/scrape.ts
import { randomInt } from "crypto";
import { nowTimestamp as nowTimestamp2 } from "@org/metricserver-prom-format";

// src/deadline.ts
var DeadlineError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "DeadlineError";
  }
};
function deadline(parent, ms, what) {
  const c = new AbortController();
  if (parent.aborted) {
    c.abort(parent.reason);
    return { signal: c.signal, dispose: () => {
    } };
  }
  const onParent = () => c.abort(parent.reason);
  parent.addEventListener("abort", onParent, { once: true });
  const timer = setTimeout(() => c.abort(new DeadlineError(what)), Math.max(0, ms));
  return {
    signal: c.signal,
    dispose: () => {
      clearTimeout(timer);
      parent.removeEventListener("abort", onParent);
    }
  };
}
function raceAbort(p, signal) {
  if (signal.aborted) {
    p.catch(() => {
    });
    return Promise.reject(asError(signal.reason));
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(asError(signal.reason));
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(asError(e));
      }
    );
  });
}
function asError(e) {
  return e instanceof Error ? e : new Error(String(e));
}

// src/goquote.ts
var PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
var SHORT = { "\x07": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "	": "\\t", "\v": "\\v", '"': '\\"', "\\": "\\\\" };
function goQuote(s) {
  let out = '"';
  for (const ch of s) {
    const short = SHORT[ch];
    if (short !== void 0) out += short;
    else if (PRINTABLE.test(ch)) out += ch;
    else {
      const cp = ch.codePointAt(0);
      if (cp < 128) out += `\\x${cp.toString(16).padStart(2, "0")}`;
      else if (cp <= 65535) out += `\\u${cp.toString(16).padStart(4, "0")}`;
      else out += `\\U${cp.toString(16).padStart(8, "0")}`;
    }
  }
  return `${out}"`;
}

// src/meta.ts
import { MetricType } from "@org/metricserver-prom-format";
var gauge = (name, help) => ({ name, type: MetricType.Gauge, help });
var META = {
  sandboxPresence: gauge("sandbox_presence", "Boolean metric set to 1 for each known sandbox."),
  sandboxRunning: gauge("sandbox_running", "Boolean metric set to 1 for each running sandbox."),
  sandboxMetadata: gauge("sandbox_metadata", "Key-value pairs about per-sandbox metadata."),
  sandboxCapabilities: gauge("sandbox_capabilities", "Linux capabilities added within containers of the sandbox."),
  specMetadata: gauge("spec_metadata", "Key-value pairs about OCI spec metadata."),
  sandboxCreationTime: gauge("sandbox_creation_time_seconds", "When the sandbox was created, as a unix timestamp in seconds."),
  numRunning: gauge("num_sandboxes_running", "Number of sandboxes running at present."),
  numBroken: gauge("num_sandboxes_broken_metrics", "Number of sandboxes from which we cannot export metrics."),
  numTotal: { name: "num_sandboxes_total", type: MetricType.Counter, help: "Counter of sandboxes that have ever been started." },
  processStart: gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.")
};
var ONE = { int: 1, float: 0 };
var ZERO = { int: 0, float: 0 };
var int = (v) => v === 0 ? ZERO : { int: v, float: 0 };
var float = (v) => v === 0 ? ZERO : { int: 0, float: v };
var EMPTY = Object.freeze({});
function withIdentity(point, identity) {
  for (const _ in point) return { ...point, ...identity };
  return identity;
}
var MetaSnapshotBuilder = class {
  constructor(capabilityFilter) {
    this.capabilityFilter = capabilityFilter;
  }
  data = [];
  running = 0;
  broken = 0;
  /** One sandbox's result: `exported` is true when its snapshot passed every check. */
  addSandbox(identity, meta, running, exported) {
    const d = this.data;
    d.push({ metric: META.sandboxPresence, labels: identity, number: ONE });
    d.push({ metric: META.sandboxRunning, labels: identity, number: running ? ONE : ZERO });
    if (running) this.running++;
    if (!exported || meta === void 0) {
      if (running && meta !== void 0) this.broken++;
      return;
    }
    d.push({ metric: META.sandboxMetadata, labels: withIdentity(meta.metricMetadata, identity), number: ONE });
    for (const cap of meta.capabilities) {
      if (this.capabilityFilter && !capabilityMatches(this.capabilityFilter, cap)) continue;
      d.push({ metric: META.sandboxCapabilities, labels: withIdentity({ capability: cap }, identity), number: ONE });
    }
    d.push({ metric: META.specMetadata, labels: withIdentity(meta.specMetadata, identity), number: ONE });
    d.push({ metric: META.sandboxCreationTime, labels: identity, number: float(meta.creationTimeSeconds) });
  }
  /** The meta snapshot with the three counts appended. */
  finish(when, totalSandboxes) {
    this.data.push(
      { metric: META.numRunning, labels: EMPTY, number: int(this.running) },
      { metric: META.numBroken, labels: EMPTY, number: int(this.broken) },
      { metric: META.numTotal, labels: EMPTY, number: int(totalSandboxes) }
    );
    return { when, data: this.data };
  }
};
function capabilityMatches(filter, trimmed) {
  if (filter.test(trimmed)) return true;
  return trimmed !== "UNKNOWN" && filter.test(`CAP_${trimmed}`);
}
function processSnapshot(startTimeSeconds, when) {
  return { when, data: [{ metric: META.processStart, labels: EMPTY, number: float(startTimeSeconds) }] };
}

// src/queue.ts
var KeyedQueue = class {
  /** Tail of each key's chain; a key's entry is only replaced by run() and dropped by GC with the key. */
  tails = /* @__PURE__ */ new WeakMap();
  /**
   * Runs `fn` after every earlier run() of `key` has settled. Waiting and the
   * run itself are cut short by `signal`; the chain is released only when `fn`
   * has really settled, so an abandoned run still blocks its successors.
   */
  async run(key, signal, fn) {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release;
    const mine = new Promise((r) => release = r);
    this.tails.set(key, prev.then(() => mine));
    try {
      await raceAbort(prev, signal);
    } catch (e) {
      release();
      throw e;
    }
    let p;
    try {
      p = fn();
    } catch (e) {
      release();
      throw e;
    }
    p.then(release, release);
    return raceAbort(p, signal);
  }
};

// src/scrape.ts
var NOT_LOADED = new Error("sandbox could not be loaded");
var Scraper = class {
  constructor(backend, opts) {
    this.backend = backend;
    this.opts = opts;
  }
  queue = new KeyedQueue();
  /**
   * Last logged export error per sandbox id, so a broken sandbox is logged once
   * per change of error, not once per scrape. Written only in the synchronous
   * result handling of scrapes (no await between read and write).
   */
  lastError = /* @__PURE__ */ new Map();
  async scrape(req, clientSignal) {
    const o = this.opts;
    const deadlineAt = Date.now() + o.scrapeDeadlineMs;
    const whole = deadline(clientSignal, o.scrapeDeadlineMs, `scrape deadline of ${o.scrapeDeadlineMs} ms exceeded`);
    try {
      await raceAbort(this.backend.refresh(), whole.signal).catch((e) => {
        o.log.warn("discovery did not finish within the scrape deadline; serving the sandboxes known so far", { error: String(e) });
      });
      const targets = this.backend.targets();
      shuffle(targets);
      const meta = new MetaSnapshotBuilder(req.capabilityMatcher);
      const metaWhen = nowTimestamp2();
      const sandboxSnapshots = [];
      let next = 0;
      const worker = async () => {
        while (next < targets.length) {
          const t = targets[next++];
          const result = await this.queryOne(t, req, whole.signal, deadlineAt);
          const running = t.meta !== void 0 && t.isRunning();
          const ok = !(result instanceof Error);
          meta.addSandbox(t.labels, t.meta, running, ok);
          if (ok) {
            sandboxSnapshots.push({ snapshot: result, exporterPrefix: o.exporterPrefix, extraLabels: t.labels });
            this.noteSuccess(t.id);
          } else if (running) this.noteError(t.id, result.message);
        }
      };
      const workers = [];
      for (let i = 0; i < Math.min(o.scrapeConcurrency, targets.length); i++) workers.push(worker());
      await Promise.all(workers);
      this.pruneErrors(targets);
      const snapshots = [
        { snapshot: meta.finish(metaWhen, this.backend.totalSandboxes()), exporterPrefix: `${o.exporterPrefix}meta_`, extraLabels: {} },
        { snapshot: processSnapshot(o.startTimeSeconds, nowTimestamp2()), exporterPrefix: "", extraLabels: {} },
        ...sandboxSnapshots
      ];
      let header = `Data for runsc metric server exporting data for sandboxes in root directory ${o.root}`;
      if (req.metricsFilter !== "") header += ` (filtered using regular expression: ${goQuote(req.metricsFilter)})`;
      return { commentHeader: header, snapshots };
    } finally {
      whole.dispose();
    }
  }
  /** The verified snapshot, or the Error saying why not (no result wrapper per sandbox). Never rejects. */
  async queryOne(t, req, scrape, deadlineAt) {
    if (t.meta === void 0) return NOT_LOADED;
    const budget = Math.min(this.opts.perSandboxTimeoutMs, deadlineAt - Date.now());
    const d = deadline(scrape, budget, `no verified answer within the per-sandbox deadline of ${budget} ms`);
    try {
      return await this.queue.run(t, d.signal, () => t.exportVerified(req.metricsFilter, req.metricsMatcher, d.signal));
    } catch (e) {
      return asError(e);
    } finally {
      d.dispose();
    }
  }
  noteError(id, message) {
    if (this.lastError.get(id) === message) return;
    this.lastError.set(id, message);
    this.opts.log.warn("Could not export metrics from sandbox", { sandbox: id, error: message });
  }
  noteSuccess(id) {
    if (this.lastError.delete(id)) this.opts.log.info("Sandbox exports metrics again", { sandbox: id });
  }
  pruneErrors(served) {
    if (this.lastError.size === 0) return;
    const ids = new Set(served.map((t) => t.id));
    for (const id of this.lastError.keys()) if (!ids.has(id)) this.lastError.delete(id);
  }
};
function shuffle(a) {
  for (let i = a.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    const tmp = a[i];
    a[i] = a[j];
    a[j] = tmp;
  }
}

// src/lifecycle.ts
var StartupError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "StartupError";
  }
};
async function startServer(input, createBackend) {
  const log = input.logger ?? createLogger();
  const config = resolveConfig(input);
  await checkRoot(config, log);
  const startTimeSeconds = Date.now() / 1e3;
  if (config.address !== input.metricServer) {
    log.info("Replaced %RUNTIME_ROOT% in the metric server address", { address: config.address });
  }
  const backend = createBackend(config, log);
  let shuttingDown = false;
  const scraper = new Scraper(backend, {
    root: config.root,
    exporterPrefix: config.exporterPrefix,
    perSandboxTimeoutMs: config.perSandboxTimeoutMs,
    scrapeConcurrency: config.scrapeConcurrency,
    scrapeDeadlineMs: config.scrapeDeadlineMs,
    startTimeSeconds,
    log
  });
  const app = {
    config,
    log,
    pid: process.pid,
    scraper,
    profiler: createProfiler(),
    isShuttingDown: () => shuttingDown
  };
  const inFlight = new InFlight();
  const server = createHttpServer(createRequestListener({ log, route: buildRouter(app), inFlight }));
  let bound;
  try {
    bound = await bindServer(server, config.address, log);
  } catch (e) {
    backend.stop();
    throw e;
  }
  let pidWritten = false;
  const removeFiles = () => {
    bound.removeSocketFile();
    if (config.pidFile !== void 0 && pidWritten) {
      pidWritten = false;
      try {
        unlinkSync2(config.pidFile);
      } catch (err) {
        if (err.code !== "ENOENT") log.warn("Cannot remove PID file", { path: config.pidFile, error: errText(err) });
      }
    }
  };
  let loopTimer;
  const loop = async () => {
    loopTimer = void 0;
    if (shuttingDown) return;
    const rootError = await readRoot(config.root);
    if (rootError !== void 0 && !config.allowUnknownRoot) {
      log.warn("Cannot list sandboxes in root directory, it has likely gone away. Server shutting down.", { root: config.root, error: rootError });
      void shutdown("root directory is gone");
      return;
    }
    await backend.refresh();
    if (!shuttingDown) loopTimer = setTimeout(() => void loop(), config.verifyLoopIntervalMs);
  };
  let resolveClosed;
  const closed = new Promise((r) => resolveClosed = r);
  let shutdownPromise;
  const shutdown = (reason) => {
    shutdownPromise ??= (async () => {
      log.info("Server shutting down.", { reason });
      shuttingDown = true;
      backend.stop();
      if (loopTimer) clearTimeout(loopTimer);
      removeFiles();
      const serverClosed = new Promise((r) => server.close(() => r()));
      server.closeIdleConnections();
      let graceTimer;
      const graceOver = new Promise((r) => graceTimer = setTimeout(() => r("timeout"), config.shutdownGraceMs));
      const drained = await Promise.race([inFlight.idle().then(() => "idle"), graceOver]);
      clearTimeout(graceTimer);
      if (drained === "timeout") {
        log.warn("In-flight requests did not finish within the shutdown grace; cutting them", { requests: inFlight.size, graceMs: config.shutdownGraceMs });
        inFlight.abortAll("server shutting down");
      }
      server.closeAllConnections();
      await serverClosed;
      log.info("Server has stopped accepting requests.");
      resolveClosed(reason);
    })();
    return shutdownPromise;
  };
  if (config.pidFile !== void 0) {
    try {
      await fsp2.writeFile(config.pidFile, String(process.pid), { mode: 420 });
      pidWritten = true;
      log.info("Wrote PID to file", { pid: process.pid, path: config.pidFile });
    } catch (err) {
      await shutdown("start-up failed");
      throw new StartupError(`cannot write PID to file ${JSON.stringify(config.pidFile)}: ${errText(err)}`);
    }
  }
  loopTimer = setTimeout(() => void loop(), config.verifyLoopIntervalMs);
  log.info("Server serving", { address: bound.display, root: config.root, pid: process.pid });
  return {
    address: bound.display,
    port: bound.port,
    identity: config.address,
    close: (reason = "closed by caller") => shutdown(reason),
    forceClose: () => {
      shuttingDown = true;
      removeFiles();
      inFlight.abortAll("server exiting now");
      server.closeAllConnections();
      server.close();
    },
    closed
  };
}
async function readRoot(root) {
  try {
    await fsp2.readdir(root);
    return void 0;
  } catch (err) {
    return errText(err);
  }
}
async function checkRoot(config, log) {
  const err = await readRoot(config.root);
  if (err === void 0) return;
  if (config.allowUnknownRoot) {
    log.info("Root directory cannot be listed; continuing because of --allow-unknown-root", { root: config.root, error: err });
    return;
  }
  throw new ConfigError(`invalid root directory ${JSON.stringify(config.root)}: tried to list all entries within it and got: ${err}`);
}

// src/index.ts
function startMetricServer(config, options = {}) {
  const factory = options.backend ?? createCoreBackend;
  return startServer(config, factory);
}

// src/cli.ts
var defaultIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env
};
var SIGNALS = ["SIGINT", "SIGTERM", "SIGQUIT"];
var FORCED_EXIT_CODE = 128;
async function runCli(argv, io = defaultIo) {
  let handle;
  try {
    const parsed = parseArgs(argv);
    if (parsed.kind === "help") {
      io.stdout(helpText());
      return 0;
    }
    const log = createLogger((line) => io.stderr(`${line}
`));
    if (parsed.ignored.length > 0) log.info("Ignoring runsc global flags without meaning here", { flags: parsed.ignored.join(",") });
    const config = configFromFlags(parsed.flags, io.env);
    handle = await startMetricServer({ ...config, logger: log });
    let signals = 0;
    const onSignal = (sig) => {
      signals++;
      if (signals === 1) {
        log.info("Received interrupt signal, shutting down server.", { signal: sig });
        void handle.close(`signal ${sig}`);
        return;
      }
      log.warn("Second signal: exiting now without waiting for in-flight requests.", { signal: sig });
      handle.forceClose();
      process.exit(FORCED_EXIT_CODE);
    };
    for (const s of SIGNALS) process.on(s, onSignal);
    await handle.closed;
    for (const s of SIGNALS) process.off(s, onSignal);
    return 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`runsc-metric-server: ${message.replace(/\n/g, " ")}
`);
    return err instanceof ArgsError ? err.exitCode : 128;
  }
}

// src/bin.ts
runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`runsc-metric-server: ${err instanceof Error ? err.message : String(err)}
`);
    process.exit(128);
  }
);
//# sourceMappingURL=bin.js.map