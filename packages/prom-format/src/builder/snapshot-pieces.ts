// What every line of one snapshot shares, worked out once per snapshot (not per line):
// its timestamp suffix, its extra labels sorted and encoded, and its header line.
// The server hands the builder each sandbox's same frozen extra-label object every
// scrape, so their part is cached per object and computed once per sandbox.
import { escapeComment, escapeLabelValue } from '../escape.js';
import type { Labels, SnapshotExport, Timestamp } from '../model.js';
import { isValidLabelName } from '../names.js';
import { formatGoTime, timestampMillis } from '../time.js';

/** Per-snapshot pieces, made once per add (or per first part). */
export interface SnapInfo extends ExtraLabelInfo {
  /** ` <timestamp>\n`, encoded once. */
  readonly tsSuffix: Uint8Array;
  readonly extraLabels: Labels;
  /** SnapshotExport.distinctSeries: the caller vouches no two points share a label set. */
  readonly distinctSeries: boolean;
}

/** What a snapshot's extra labels alone decide. */
interface ExtraLabelInfo {
  /** Keys sorted byte-wise (valid label names are ASCII). */
  readonly extraKeys: readonly string[];
  /** Values in key order, raw. */
  readonly extraVals: readonly string[];
  /** `key="escaped value"` per key, as UTF-8. */
  readonly extraPairs: readonly Uint8Array[];
  /** Pairs b.. joined by `,`, per b: the usual end of a line, one copy. */
  readonly extraTails: readonly Uint8Array[];
  /** 1 when pairs b.. hold no `le` (which must go last, so cannot be copied as a block). */
  readonly extraTailPlain: Uint8Array;
  /** Why every point of the snapshot is skipped (an invalid extra label name). */
  readonly invalid: string | undefined;
  /** `k:v k:v` in key order, escaped for a comment: the labels' part of a header line. */
  readonly headerMap: string;
}

const frozenExtras = new WeakMap<Labels, ExtraLabelInfo>();

function extraLabelInfo(extra: Labels): ExtraLabelInfo {
  const frozen = Object.isFrozen(extra);
  const cached = frozen ? frozenExtras.get(extra) : undefined;
  if (cached !== undefined) return cached;
  const keys = Object.keys(extra);
  let invalid: string | undefined;
  for (const k of keys) {
    if (!isValidLabelName(k)) {
      invalid =
        `invalid extra label name ${JSON.stringify(k)}: must match [a-zA-Z_][a-zA-Z0-9_]* and not start ` + `with "__"`;
      break;
    }
  }
  keys.sort();
  const pairs = keys.map((k) => `${k}="${escapeLabelValue(extra[k]!)}"`);
  const info: ExtraLabelInfo = {
    extraKeys: keys,
    extraVals: keys.map((k) => extra[k]!),
    extraPairs: pairs.map((p) => Buffer.from(p, 'utf8')),
    extraTails: pairs.map((_, b) => Buffer.from(pairs.slice(b).join(','), 'utf8')),
    extraTailPlain: Uint8Array.from(keys, (_, b) => (keys.slice(b).includes('le') ? 0 : 1)),
    invalid,
    headerMap: escapeComment(keys.map((k) => `${k}:${extra[k]!}`).join(' ')),
  };
  if (frozen) frozenExtras.set(extra, info);
  return info;
}

export function snapInfo(s: SnapshotExport, om: boolean): SnapInfo {
  const when = s.snapshot.when;
  const x = extraLabelInfo(s.extraLabels);
  // Field by field: an object spread here cost ~5 µs per snapshot (V8's clone of a cached object).
  return {
    extraKeys: x.extraKeys,
    extraVals: x.extraVals,
    extraPairs: x.extraPairs,
    extraTails: x.extraTails,
    extraTailPlain: x.extraTailPlain,
    invalid: x.invalid,
    headerMap: x.headerMap,
    tsSuffix: Buffer.from(` ${om ? timestampSecondsText(when) : timestampMillis(when)}\n`, 'latin1'),
    extraLabels: s.extraLabels,
    distinctSeries: s.distinctSeries === true,
  };
}

/** OpenMetrics timestamps are seconds: 0.0.4's milliseconds as a decimal (`-0.001` for 1 ms before 1970). */
export function timestampSecondsText(ts: Timestamp): string {
  const ms = timestampMillis(ts);
  const abs = Math.abs(ms);
  const sec = Math.floor(abs / 1000);
  const frac = abs - sec * 1000;
  const sign = ms < 0 ? '-' : '';
  return frac === 0 ? `${sign}${sec}` : `${sign}${sec}.${String(frac).padStart(3, '0')}`;
}

/** One snapshot's line in the header comment. */
export interface HeaderEntry {
  readonly count: number;
  readonly when: Timestamp;
  readonly extraLabels: Labels;
  /** `headerLine(this)`, when made ahead (the builder makes it at add, not in the scrape's tail). */
  readonly line?: string;
}

/** A snapshot's line (escaped, without its newline) in the header of a multi-snapshot exposition. */
export function headerLine(e: HeaderEntry): string {
  // escapeComment maps characters one by one, so the parts can be escaped apart.
  const map = extraLabelInfo(e.extraLabels).headerMap;
  return `${escapeComment(`#   - Snapshot with ${e.count} data points taken at ${formatGoTime(e.when)}`)}: map[${map}]`;
}
