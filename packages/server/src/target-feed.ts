// The sandboxes one scrape queries, in order: usually a fixed, shuffled list; while a
// discovery pass is loading sandboxes (at start-up, 1000 of them take ~0.4 s), the pass
// appends each one as it is loaded, so the scrape's queries run alongside the loading
// instead of after it. Owned by one scrape: discovery pushes, runLimited takes.

export class TargetFeed<T> {
  private readonly items: T[];
  private taken = 0;
  private open: boolean;
  /** Called when an item arrives or the feed closes; set by the one consumer. */
  onMore: (() => void) | undefined;

  /** `items` to begin with; `open`: more may be pushed until close(). */
  constructor(items: readonly T[], open: boolean) {
    this.items = [...items];
    this.open = open;
  }

  push(item: T): void {
    if (!this.open) return;
    this.items.push(item);
    this.onMore?.();
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.onMore?.();
  }

  /** The next item, or undefined when none is waiting (yet). */
  next(): T | undefined {
    return this.taken < this.items.length ? this.items[this.taken++] : undefined;
  }

  /** Closed, and every item taken. */
  get exhausted(): boolean {
    return !this.open && this.taken >= this.items.length;
  }
}
