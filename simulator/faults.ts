// Injected faults: by service and action, for a number of calls or with a probability.
import type { SeededRandom } from "./clock";
import type { FaultKind, FaultRule } from "./options";

interface ActiveRule {
  rule: FaultRule;
  seen: number;
  fired: number;
}

export class FaultInjector {
  private rules: ActiveRule[] = [];

  constructor(private readonly random: SeededRandom) {}

  add(rule: FaultRule): void {
    if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1)) {
      throw new Error(`fault probability must be within [0, 1], got ${rule.probability}`);
    }
    this.rules.push({ rule, seen: 0, fired: 0 });
  }

  clear(): void {
    this.rules = [];
  }

  /** The fault to apply to this call, if a rule fires. The first matching rule that fires wins. */
  match(service: string, action: string): FaultKind | undefined {
    for (const active of this.rules) {
      const { rule } = active;
      if (rule.service !== undefined && rule.service !== service) continue;
      if (rule.action !== undefined && rule.action !== action) continue;
      if (rule.count !== undefined && active.fired >= rule.count) continue;
      active.seen++;
      if (active.seen <= (rule.skip ?? 0)) continue;
      if (rule.probability !== undefined && this.random.next() >= rule.probability) continue;
      active.fired++;
      return rule.fault;
    }
    return undefined;
  }
}
