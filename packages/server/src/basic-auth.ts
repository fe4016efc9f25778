// Basic authentication against bcrypt hashes (exporter-toolkit's
// basic_auth_users). bcrypt is deliberately slow (~70 ms of CPU at cost 10), so:
// - verdicts are cached by sha256(user, stored hash, given password), successes
//   and failures in separate bounded maps (a flood of distinct wrong passwords
//   churns only the failure map, never Prometheus' verified entry), each for a TTL;
// - identical credentials being compared right now share that one comparison;
// - comparisons run at most `maxConcurrentComparisons` at a time (exporter-toolkit
//   serialises them), with at most `maxQueuedComparisons` waiting; beyond that a
//   request is refused (401) at once without a comparison, so a flood of bad
//   credentials costs bounded CPU and cannot starve scrapes.
// Unknown users are compared against a decoy hash through the same path, so
// neither timing nor the queue tells which users exist.

import { createHash, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { type Logger, silentLogger } from './log.js';

export interface BasicAuthOptions {
  /** How long a verdict (either way) is trusted without a new bcrypt. */
  readonly cacheTtlMs?: number;
  /** Bound on cached successful credentials (least recently used evicted first). */
  readonly maxCacheEntries?: number;
  /** Bound on cached failed credentials (oldest evicted first). */
  readonly maxFailureCacheEntries?: number;
  /** bcrypt comparisons running at once. */
  readonly maxConcurrentComparisons?: number;
  /** Comparisons allowed to wait for a slot; more are refused without comparing. */
  readonly maxQueuedComparisons?: number;
  readonly now?: () => number;
  /** The bcrypt comparison (tests count and hold it). */
  readonly compare?: (password: string, hash: string) => Promise<boolean>;
  readonly log?: Logger;
}

export const BASIC_AUTH_DEFAULTS = {
  cacheTtlMs: 60_000,
  maxCacheEntries: 128,
  maxFailureCacheEntries: 512,
  maxConcurrentComparisons: 1,
  maxQueuedComparisons: 16,
} as const;

export type Credentials = { readonly user: string; readonly password: string };

/** RFC 7617 `Authorization: Basic base64(user:password)`; undefined if absent or malformed (as Go's r.BasicAuth). */
export function parseBasicAuthorization(header: string | undefined): Credentials | undefined {
  if (header === undefined) return undefined;
  const m = /^basic +(\S*)$/i.exec(header);
  if (!m) return undefined;
  const b64 = m[1] as string;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return undefined;
  const decoded = Buffer.from(b64, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** sha256 over length-prefixed parts: no two different tuples share an input. */
function digest(...parts: string[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) {
    const b = Buffer.from(p, 'utf8');
    h.update(String(b.length)).update(':').update(b);
  }
  return h.digest();
}

const bcryptCompare = (password: string, hash: string): Promise<boolean> => bcrypt.compare(password, hash);

export class BasicAuth {
  private readonly users: ReadonlyArray<{ readonly nameDigest: Buffer; readonly hash: string }>;
  /** Compared against when the user is unknown, so an unknown user costs the same bcrypt as a known one. */
  private readonly decoyHash: string;
  /**
   * Cache key -> expiry (ms); keys are digests, the plain password is never kept.
   * Both maps are owned by check() and the settlement of its comparisons; Map
   * insertion order is the eviction order (a hit on `verified` moves the key last).
   */
  private readonly verified = new Map<string, number>();
  private readonly refused = new Map<string, number>();
  /** Comparisons under way by cache key; owned by check(), entries dropped when they settle. */
  private readonly inFlight = new Map<string, Promise<boolean>>();
  /**
   * The comparison slots: `running` holders, `waiting` resolvers in arrival order.
   * Owned by withSlot(): a finishing comparison hands its slot to the first waiter.
   */
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  /** Requests refused because the queue was full since the last time it drained (0: no burst). */
  private refusedInBurst = 0;
  private readonly ttlMs: number;
  private readonly maxVerified: number;
  private readonly maxRefused: number;
  private readonly maxConcurrent: number;
  private readonly maxQueued: number;
  private readonly now: () => number;
  private readonly compare: (password: string, hash: string) => Promise<boolean>;
  private readonly log: Logger;

  constructor(users: ReadonlyMap<string, string>, opts: BasicAuthOptions = {}) {
    this.users = [...users].map(([name, hash]) => ({ nameDigest: digest(name), hash }));
    const first = this.users[0]?.hash;
    // Same cost as a real user's hash; the password behind it is random and never matched.
    this.decoyHash =
      first === undefined
        ? ''
        : bcrypt.hashSync(digest(String(Math.random())).toString('hex'), bcrypt.getRounds(first));
    this.ttlMs = opts.cacheTtlMs ?? BASIC_AUTH_DEFAULTS.cacheTtlMs;
    this.maxVerified = positive('maxCacheEntries', opts.maxCacheEntries ?? BASIC_AUTH_DEFAULTS.maxCacheEntries);
    this.maxRefused = positive(
      'maxFailureCacheEntries',
      opts.maxFailureCacheEntries ?? BASIC_AUTH_DEFAULTS.maxFailureCacheEntries,
    );
    this.maxConcurrent = positive(
      'maxConcurrentComparisons',
      opts.maxConcurrentComparisons ?? BASIC_AUTH_DEFAULTS.maxConcurrentComparisons,
    );
    this.maxQueued = opts.maxQueuedComparisons ?? BASIC_AUTH_DEFAULTS.maxQueuedComparisons;
    if (!Number.isInteger(this.maxQueued) || this.maxQueued < 0)
      throw new RangeError(`maxQueuedComparisons must be an integer >= 0, got ${this.maxQueued}`);
    this.now = opts.now ?? Date.now;
    this.compare = opts.compare ?? bcryptCompare;
    this.log = opts.log ?? silentLogger;
  }

  get enabled(): boolean {
    return this.users.length > 0;
  }

  /** Number of bcrypt comparisons started so far (tests check the cache with it). */
  bcryptRuns = 0;

  /** Cached verdicts, both kinds (tests check the bounds with it). */
  get cacheSize(): number {
    return this.verified.size + this.refused.size;
  }

  /** True if the header carries valid credentials (or auth is off). Sync when no comparison is needed. */
  check(authorization: string | undefined): boolean | Promise<boolean> {
    if (!this.enabled) return true;
    const creds = parseBasicAuthorization(authorization);
    if (creds === undefined) return false;
    // Constant time in the user name: every entry is compared, digests have equal length.
    const nameDigest = digest(creds.user);
    let hash = this.decoyHash;
    let known = false;
    for (const u of this.users) {
      if (timingSafeEqual(u.nameDigest, nameDigest)) {
        hash = u.hash;
        known = true;
      }
    }
    const key = digest(creds.user, hash, creds.password).toString('hex');
    const cached = this.cached(key);
    if (cached !== undefined) return cached;
    const pending = this.inFlight.get(key);
    if (pending !== undefined) return pending;
    if (this.running >= this.maxConcurrent && this.waiting.length >= this.maxQueued) {
      this.overflow();
      return false;
    }
    const password = creds.password;
    const verdict = this.withSlot(() => {
      this.bcryptRuns++;
      return this.compare(password, hash);
    }).then(
      (ok) => {
        const accepted = ok && known;
        this.remember(accepted ? this.verified : this.refused, accepted ? this.maxVerified : this.maxRefused, key);
        return accepted;
      },
      (err: unknown) => {
        // Not cached: a broken comparison must not stick. Refusing is the safe answer.
        this.log.error('basic auth: bcrypt comparison failed; refusing the request', {
          error: err instanceof Error ? err.message : String(err),
        });
        return false;
      },
    );
    this.inFlight.set(key, verdict);
    void verdict.then(() => this.inFlight.delete(key));
    return verdict;
  }

  private cached(key: string): boolean | undefined {
    const now = this.now();
    const ok = this.verified.get(key);
    if (ok !== undefined) {
      this.verified.delete(key);
      if (ok <= now) return undefined;
      this.verified.set(key, ok); // most recently used goes last
      return true;
    }
    const bad = this.refused.get(key);
    if (bad !== undefined) {
      if (bad > now) return false;
      this.refused.delete(key);
    }
    return undefined;
  }

  private remember(map: Map<string, number>, bound: number, key: string): void {
    map.delete(key);
    map.set(key, this.now() + this.ttlMs);
    while (map.size > bound) map.delete(map.keys().next().value as string);
  }

  private async withSlot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running < this.maxConcurrent) this.running++;
    else await new Promise<void>((r) => this.waiting.push(r)); // the finishing holder hands its slot over
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else {
        this.running--;
        if (this.running === 0) this.burstOver();
      }
    }
  }

  private overflow(): void {
    if (this.refusedInBurst === 0) {
      this.log.warn(
        'basic auth: too many credentials waiting for a bcrypt comparison; refusing new ones unchecked (401) ' +
          'until the queue drains',
        {
          running: this.running,
          queued: this.waiting.length,
        },
      );
    }
    this.refusedInBurst++;
  }

  private burstOver(): void {
    if (this.refusedInBurst === 0) return;
    this.log.warn('basic auth: comparison queue drained', { refusedUnchecked: this.refusedInBurst });
    this.refusedInBurst = 0;
  }
}

function positive(name: string, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be an integer >= 1, got ${n}`);
  return n;
}
