// The consumer's buffer of fetched records: first in, first out, with O(1) takes from the
// front. A plain array's shift() copies the whole array once it is large (one fetch of
// small records can buffer tens of thousands), which made each record cost tens of µs.

export class RecordQueue<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, left in place, or undefined when empty. */
  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  forEach(visit: (item: T) => void): void {
    for (let i = this.head; i < this.items.length; i++) visit(this.items[i]);
  }

  /** Takes the oldest item, or undefined when empty. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined as T;
    // Compact once the taken prefix is most of the array, so memory stays proportional.
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Drops every item for which `drop` is true, keeping the order of the rest. */
  removeWhere(drop: (item: T) => boolean): void {
    this.items = this.items.slice(this.head).filter((item) => !drop(item));
    this.head = 0;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
