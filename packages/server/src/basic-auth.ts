// Basic authentication against bcrypt hashes (exporter-toolkit's
// basic_auth_users). bcrypt is deliberately slow (~70 ms at cost 10), so a
// verified (user, password) pair is cached briefly: a Prometheus scraping every
// 15 s pays one bcrypt per TTL, not one per scrape. Failures are never cached
// (a wrong guess must keep costing the guesser a bcrypt).

import { createHash, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';

export interface BasicAuthOptions {
  /** How long a verified pair is trusted without a new bcrypt. */
  readonly cacheTtlMs?: number;
  /** Bound on cached pairs (oldest evicted first). */
  readonly maxCacheEntries?: number;
  readonly now?: () => number;
}

export const BASIC_AUTH_DEFAULTS = { cacheTtlMs: 60_000, maxCacheEntries: 128 } as const;

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

function digest(...parts: string[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest();
}

export class BasicAuth {
  private readonly users: ReadonlyArray<{ readonly nameDigest: Buffer; readonly hash: string }>;
  /** Compared against when the user is unknown, so an unknown user costs the same bcrypt as a known one. */
  private readonly decoyHash: string;
  /**
   * sha256(user, password) -> expiry (ms). Owned by check(): written only after a
   * bcrypt that succeeded; the plain password is never kept. Insertion order = age.
   */
  private readonly verified = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(users: ReadonlyMap<string, string>, opts: BasicAuthOptions = {}) {
    this.users = [...users].map(([name, hash]) => ({ nameDigest: digest(name), hash }));
    const first = this.users[0]?.hash;
    // Same cost as a real user's hash; the password behind it is random and never matched.
    this.decoyHash = first === undefined ? '' : bcrypt.hashSync(digest(String(Math.random())).toString('hex'), bcrypt.getRounds(first));
    this.ttlMs = opts.cacheTtlMs ?? BASIC_AUTH_DEFAULTS.cacheTtlMs;
    this.maxEntries = opts.maxCacheEntries ?? BASIC_AUTH_DEFAULTS.maxCacheEntries;
    this.now = opts.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.users.length > 0;
  }

  /** Number of bcrypt comparisons run so far (tests check the cache with it). */
  bcryptRuns = 0;

  /** True if the header carries valid credentials (or auth is off). Sync when answered from the cache. */
  check(authorization: string | undefined): boolean | Promise<boolean> {
    if (!this.enabled) return true;
    const creds = parseBasicAuthorization(authorization);
    if (creds === undefined) return false;
    const key = digest(creds.user, creds.password).toString('hex');
    const expiry = this.verified.get(key);
    if (expiry !== undefined) {
      if (expiry > this.now()) return true;
      this.verified.delete(key);
    }
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
    this.bcryptRuns++;
    // bcryptjs' async compare yields to the event loop between rounds, so scrapes keep flowing meanwhile.
    return bcrypt.compare(creds.password, hash).then((ok) => {
      if (!ok || !known) return false;
      this.remember(key);
      return true;
    });
  }

  private remember(key: string): void {
    this.verified.delete(key);
    this.verified.set(key, this.now() + this.ttlMs);
    while (this.verified.size > this.maxEntries) {
      const oldest = this.verified.keys().next().value as string;
      this.verified.delete(oldest);
    }
  }
}
