/**
 * The simulator's agenda: a binary min-heap of (time, endpoint) in typed arrays. An endpoint has one
 * live entry; rescheduling pushes a new one and the old one is recognised as stale when popped (its
 * time no longer matches), which is cheaper than removing it from the middle of the heap.
 */
export class EndpointAgenda {
  private times: Float64Array;
  private endpoints: Int32Array;
  private size = 0;
  /** The one time each endpoint is due; NaN = not scheduled. */
  readonly dueAt: Float64Array;

  constructor(endpointCount: number) {
    const capacity = Math.max(16, endpointCount * 2);
    this.times = new Float64Array(capacity);
    this.endpoints = new Int32Array(capacity);
    this.dueAt = new Float64Array(endpointCount).fill(Number.NaN);
  }

  /** Time of the earliest live entry, or +Infinity. */
  peekTime(): number {
    this.dropStale();
    return this.size === 0 ? Number.POSITIVE_INFINITY : this.times[0]!;
  }

  schedule(endpoint: number, atSeconds: number): void {
    this.dueAt[endpoint] = atSeconds;
    if (this.size === this.times.length) this.grow();
    let index = this.size++;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.times[parent]! <= atSeconds) break;
      this.times[index] = this.times[parent]!;
      this.endpoints[index] = this.endpoints[parent]!;
      index = parent;
    }
    this.times[index] = atSeconds;
    this.endpoints[index] = endpoint;
  }

  /** Removes and returns the endpoint of the earliest live entry; -1 when empty. */
  pop(): number {
    this.dropStale();
    if (this.size === 0) return -1;
    const endpoint = this.endpoints[0]!;
    this.removeTop();
    this.dueAt[endpoint] = Number.NaN;
    return endpoint;
  }

  private dropStale(): void {
    while (this.size > 0 && this.dueAt[this.endpoints[0]!] !== this.times[0]) this.removeTop();
  }

  private removeTop(): void {
    this.size -= 1;
    if (this.size === 0) return;
    const time = this.times[this.size]!;
    const endpoint = this.endpoints[this.size]!;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= this.size) break;
      const right = left + 1;
      const child = right < this.size && this.times[right]! < this.times[left]! ? right : left;
      if (this.times[child]! >= time) break;
      this.times[index] = this.times[child]!;
      this.endpoints[index] = this.endpoints[child]!;
      index = child;
    }
    this.times[index] = time;
    this.endpoints[index] = endpoint;
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2);
    times.set(this.times);
    const endpoints = new Int32Array(this.endpoints.length * 2);
    endpoints.set(this.endpoints);
    this.times = times;
    this.endpoints = endpoints;
  }
}
