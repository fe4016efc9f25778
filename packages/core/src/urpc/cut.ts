// One cut for many calls: what a scrape's per-sandbox deadline needs from each call,
// without an AbortController per call. Node's AbortSignal is an EventTarget: one per
// sandbox costs ~1 KB that lives as long as the call (and is promoted with it), and one
// shared by 1000 calls walks its listener list on every add and remove (O(n^2)).

/** Cuts every call registered with it at once, with one reason. */
export interface CallCut {
  /** True once cut; a call started after that fails at once. */
  readonly isCut: boolean;
  /** Why it was cut (read once isCut). */
  readonly cutReason: unknown;
  /** `onCut(reason)` runs once when this is cut, unless removed first. O(1). */
  onCut(onCut: (reason: unknown) => void): void;
  /** Removes a callback given to onCut (no-op when absent). O(1). */
  offCut(onCut: (reason: unknown) => void): void;
  /**
   * True when this is certain to be cut within a bounded time (a timer of its own is
   * behind it): a call under it given no `timeoutMs` then arms no timer of its own.
   */
  readonly bounded?: boolean;
}

/** The text a cut call's error gives for its reason. */
export function cutText(reason: unknown): string {
  if (reason instanceof Error) return reason.name === 'TimeoutError' ? 'deadline exceeded' : reason.message;
  return reason === undefined ? 'aborted' : String(reason);
}
