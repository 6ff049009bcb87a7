// Simulated time. simulated now = start + (wall elapsed x timeScale) + manual advances.
// Every duration the simulator models (latency, transitions, token refills) is in simulated ms, so a
// time scale of 100 runs a five-minute response in three seconds while reporting five minutes.

interface ScheduledEvent {
  dueAt: number;
  seq: number;
  run: () => void;
}

export class SimClock {
  private readonly wallStart = Date.now();
  private advancedMs = 0;
  private readonly queue: ScheduledEvent[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** While an event runs, "now" is its due time, so what it schedules counts from when it happened. */
  private processingAt: number | undefined;

  /**
   * @param timeScale simulated ms per wall ms; 0 = a manual clock that moves only with advance()
   *   (deterministic tests).
   */
  constructor(
    private readonly simStart: number,
    readonly timeScale: number,
  ) {
    if (!(timeScale >= 0) || !Number.isFinite(timeScale))
      throw new Error(`timeScale must be >= 0, got ${timeScale}`);
  }

  get manual(): boolean {
    return this.timeScale === 0;
  }

  now(): number {
    return this.processingAt ?? this.wallNow();
  }

  private wallNow(): number {
    return this.simStart + (Date.now() - this.wallStart) * this.timeScale + this.advancedMs;
  }

  /** Wall-clock ms that `simMs` of simulated time takes (0 on a manual clock). */
  toWallMs(simMs: number): number {
    return this.manual ? 0 : simMs / this.timeScale;
  }

  /** Run `run` once simulated time reaches now + delayMs. Events run in due order, ties in scheduling order. */
  schedule(delayMs: number, run: () => void): void {
    const event = { dueAt: this.now() + Math.max(0, delayMs), seq: this.seq++, run };
    const index = this.queue.findIndex((e) => e.dueAt > event.dueAt);
    if (index === -1) this.queue.push(event);
    else this.queue.splice(index, 0, event);
    if (this.processingAt === undefined) this.arm();
  }

  /** Run every event that is due, including those that due events schedule. Called before each request. */
  runDue(): void {
    if (this.processingAt !== undefined) return;
    const target = this.wallNow();
    try {
      for (;;) {
        const next = this.queue[0];
        if (!next || next.dueAt > target) break;
        this.queue.shift();
        this.processingAt = next.dueAt;
        next.run();
      }
    } finally {
      this.processingAt = undefined;
    }
    this.arm();
  }

  advance(simMs: number): void {
    if (simMs < 0) throw new Error("cannot move simulated time backwards");
    this.advancedMs += simMs;
    this.runDue();
  }

  /** Resolve after simMs of simulated time; on a manual clock, move the clock forward instead of waiting. */
  sleep(simMs: number): Promise<void> {
    if (this.manual) {
      this.advance(simMs);
      return Promise.resolve();
    }
    return new Promise((resolve) => setTimeout(resolve, this.toWallMs(simMs)));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.queue.length = 0;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.queue[0];
    if (!next || this.stopped || this.manual) return;
    // +1 ms so the wall timer never fires a hair before the event is due.
    const wait = Math.max(0, this.toWallMs(next.dueAt - this.wallNow())) + 1;
    this.timer = setTimeout(() => this.runDue(), Math.min(wait, 2 ** 31 - 1));
    this.timer.unref();
  }
}

/** Deterministic pseudo-random numbers (mulberry32), so a seed reproduces jitter, faults and ids. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  hex(length: number): string {
    let out = "";
    while (out.length < length) out += Math.floor(this.next() * 16).toString(16);
    return out;
  }
}
