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
  private draining = false;

  constructor(
    private readonly simStart: number,
    readonly timeScale: number,
  ) {
    if (!(timeScale > 0)) throw new Error(`timeScale must be > 0, got ${timeScale}`);
  }

  now(): number {
    return this.simStart + (Date.now() - this.wallStart) * this.timeScale + this.advancedMs;
  }

  /** Wall-clock ms that `simMs` of simulated time takes. */
  toWallMs(simMs: number): number {
    return simMs / this.timeScale;
  }

  /** Run `run` once simulated time reaches now + delayMs. Events run in due order, ties in scheduling order. */
  schedule(delayMs: number, run: () => void): void {
    const event = { dueAt: this.now() + Math.max(0, delayMs), seq: this.seq++, run };
    const index = this.queue.findIndex((e) => e.dueAt > event.dueAt);
    if (index === -1) this.queue.push(event);
    else this.queue.splice(index, 0, event);
    this.arm();
  }

  /** Run every event that is due. Called before each request so state never lags simulated time. */
  runDue(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      for (;;) {
        const next = this.queue[0];
        if (!next || next.dueAt > this.now()) break;
        this.queue.shift();
        next.run();
      }
    } finally {
      this.draining = false;
    }
    this.arm();
  }

  advance(simMs: number): void {
    if (simMs < 0) throw new Error("cannot move simulated time backwards");
    this.advancedMs += simMs;
    this.runDue();
  }

  sleep(simMs: number): Promise<void> {
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
    if (!next || this.stopped) return;
    // +1 ms so the wall timer never fires a hair before the event is due.
    const wait = Math.max(0, this.toWallMs(next.dueAt - this.now())) + 1;
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
