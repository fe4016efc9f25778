// A point's label section: `{` its labels merged with the snapshot's extra labels `}`,
// in byte-wise key order with `le` last; an extra label wins over the point's label of
// the same name. The section's bytes double as the point's dedupe key.
import type { Data, Labels } from '../model.js';
import { NO_LABELS } from '../model.js';
import { isValidLabelName } from '../names.js';
import { ByteWriter } from './byte-writer.js';
import type { SnapInfo } from './snapshot-pieces.js';

/** A point's label key as the builder hands it over: null for none, MANY for several (the object is then read). */
export type LabelKey = string | null;
export const MANY = '\u0000several labels';

/** The point's only label key, null for none, MANY for several. Per point, no allocation. */
export function singleLabelKey(labels: Labels): LabelKey {
  let key: string | null = null;
  for (const k in labels) {
    if (key !== null) return MANY;
    key = k;
  }
  return key;
}

function checkLabelName(k: string, histogram: boolean): string | undefined {
  if (!isValidLabelName(k)) {
    return `invalid label name ${JSON.stringify(k)}: must match [a-zA-Z_][a-zA-Z0-9_]* and not start with "__"`;
  }
  if (k === 'le' && histogram) return 'a histogram point cannot carry its own "le" label';
  return undefined;
}

/**
 * A frozen label object's rendered pairs (no braces; the snapshot has no extra labels),
 * as a latin1 string of their UTF-8 bytes (what to write and the dedupe key at once), or
 * why the point is skipped. The server's meta snapshot renders the same frozen identity
 * labels every scrape (~7000-9000 points); a frozen object cannot change, so neither can
 * its pairs. Entries go with their objects.
 */
const frozenSections = new WeakMap<Labels, { readonly text: string; readonly error: string | undefined }>();

export class LabelWriter extends ByteWriter {
  /** The last section's bytes as a latin1 string when the frozen cache had it, else undefined. */
  keyText: string | undefined;
  private readonly oneKeyArray: string[] = [''];

  /**
   * The label pairs (no braces) of a point merged with the extra labels; an error text on
   * a bad name. `single`: the point's only key (its value read from `labels`), null for
   * none, MANY to read every key of `labels`.
   */
  writeLabelPairs(labels: Labels, single: LabelKey, info: SnapInfo, histogram: boolean): string | undefined {
    const extra = info.extraLabels;
    // One sandbox label is the common case: an array only from the second key on.
    let k0: string | undefined;
    let keys: string[] | undefined;
    if (single === MANY) {
      for (const k in labels) {
        if (Object.hasOwn(extra, k)) continue; // the server's label wins; the sandbox's is dropped
        const err = checkLabelName(k, histogram);
        if (err !== undefined) return err;
        if (k0 === undefined) k0 = k;
        else (keys ??= [k0]).push(k);
      }
    } else if (single !== null && !Object.hasOwn(extra, single)) {
      const err = checkLabelName(single, histogram);
      if (err !== undefined) return err;
      k0 = single;
    }
    if (keys !== undefined) {
      keys.sort(); // ASCII (validated): UTF-16 order is byte order
    } else if (k0 !== undefined) {
      this.oneKeyArray[0] = k0; // no array allocated for one key
      keys = this.oneKeyArray;
    }
    const xk = info.extraKeys;
    const nk = keys === undefined ? 0 : keys.length;
    let a = 0;
    let b = 0;
    let first = true;
    let leValue: string | undefined;
    while (a < nk || b < xk.length) {
      let key: string;
      let value: string;
      if (b >= xk.length || (a < nk && keys![a]! < xk[b]!)) {
        key = keys![a++]!;
        value = labels[key]!;
      } else {
        key = xk[b]!;
        if (a >= nk && info.extraTailPlain[b] === 1) {
          // Only extra labels left (the usual end of a line): one pre-encoded block.
          if (!first) this.byte(0x2c);
          this.bytes(info.extraTails[b]!);
          first = false;
          break;
        }
        if (key !== 'le') {
          if (!first) this.byte(0x2c);
          this.bytes(info.extraPairs[b++]!);
          first = false;
          continue;
        }
        value = info.extraVals[b++]!;
      }
      if (key === 'le') {
        leValue = value;
        continue;
      }
      this.pair(first, key, value);
      first = false;
    }
    if (leValue !== undefined) this.pair(first, 'le', leValue);
    return undefined;
  }

  private pair(first: boolean, key: string, value: string): void {
    this.ensure(key.length + 3);
    if (!first) this.buf[this.pos++] = 0x2c;
    this.ascii(key);
    this.buf[this.pos++] = 0x3d; // '=' (room for `,key="` ensured above)
    this.buf[this.pos++] = 0x22;
    this.labelValue(value);
    this.byte(0x22);
  }

  /**
   * The label section `{…}` of a sample line (nothing for no labels); returns where its
   * content starts (it ends at pos - 1, or at pos when empty), or why the point is skipped.
   */
  writeLabelSection(d: Data, single: LabelKey, info: SnapInfo): number | string {
    this.byte(0x7b);
    const cs = this.pos;
    this.keyText = undefined;
    if (single === MANY && info.extraKeys.length === 0 && Object.isFrozen(d.labels)) {
      let section = frozenSections.get(d.labels);
      if (section === undefined) {
        // Rendered once the ordinary way, then read back: the cache cannot disagree with it.
        const error = this.writeLabelPairs(d.labels, MANY, info, false);
        section = { text: error === undefined ? this.buf.toString('latin1', cs, this.pos) : '', error };
        frozenSections.set(d.labels, section);
        this.pos = cs;
      }
      if (section.error !== undefined) return section.error;
      if (section.text === '') {
        this.pos--; // no labels: no braces
        return cs;
      }
      this.ascii(section.text);
      this.keyText = section.text;
      this.byte(0x7d);
      return cs;
    }
    const err = this.writeLabelPairs(single === null ? NO_LABELS : d.labels, single, info, false);
    if (err !== undefined) return err;
    if (this.pos === cs)
      this.pos--; // no labels: no braces
    else this.byte(0x7d);
    return cs;
  }
}
