// EC2 API request throttling as documented in "Request throttling for the Amazon EC2 API"
// (docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html): a token bucket per API action, sized by
// the action's category, refilled every simulated second; RunInstances, StartInstances, StopInstances and
// TerminateInstances also draw one token per instance from a resource bucket. An empty bucket answers
// HTTP 503 RequestLimitExceeded. Other services' throttling is not modelled (inject it with a fault instead).
import type { BucketLimits, ThrottlingOptions } from "./options";

export type Ec2ThrottleCategory =
  "non-mutating" | "unfiltered-non-mutating" | "mutating" | "resource-intensive" | "uncategorized";

/** Request token buckets by category (table "Request token bucket sizes and refill rates"). */
export const EC2_CATEGORY_LIMITS: Record<Exclude<Ec2ThrottleCategory, "uncategorized">, BucketLimits> = {
  "non-mutating": { capacity: 100, refillPerSecond: 20 },
  "unfiltered-non-mutating": { capacity: 50, refillPerSecond: 10 },
  mutating: { capacity: 50, refillPerSecond: 5 },
  "resource-intensive": { capacity: 50, refillPerSecond: 5 },
};

/** Actions in the "Unfiltered and unpaginated non-mutating actions" category (when called without either). */
const UNFILTERED_ACTIONS = new Set([
  "DescribeInstances",
  "DescribeInstanceStatus",
  "DescribeNetworkInterfaces",
  "DescribeSecurityGroups",
  "DescribeSnapshots",
  "DescribeSpotInstanceRequests",
  "DescribeVolumes",
]);

/** "Resource-intensive actions" the responder may call. */
const RESOURCE_INTENSIVE_ACTIONS = new Set([
  "AuthorizeSecurityGroupIngress",
  "RevokeSecurityGroupIngress",
  "CreateKeyPair",
  "RequestSpotInstances",
  "CancelSpotInstanceRequests",
]);

/** "Uncategorized actions" with their own bucket (the rows relevant to the responder and its tests). */
export const EC2_UNCATEGORIZED_LIMITS: Record<string, BucketLimits> = {
  AssociateIamInstanceProfile: { capacity: 100, refillPerSecond: 5 },
  CreateSnapshot: { capacity: 100, refillPerSecond: 5 },
  CreateSnapshots: { capacity: 100, refillPerSecond: 5 },
  CreateTags: { capacity: 100, refillPerSecond: 10 },
  CreateVolume: { capacity: 100, refillPerSecond: 5 },
  DeleteSnapshot: { capacity: 100, refillPerSecond: 5 },
  DeleteTags: { capacity: 100, refillPerSecond: 10 },
  DeleteVolume: { capacity: 100, refillPerSecond: 5 },
  DisassociateIamInstanceProfile: { capacity: 100, refillPerSecond: 5 },
  ModifyInstanceMetadataOptions: { capacity: 100, refillPerSecond: 5 },
  ModifyNetworkInterfaceAttribute: { capacity: 100, refillPerSecond: 5 },
  RunInstances: { capacity: 5, refillPerSecond: 2 },
  StartInstances: { capacity: 5, refillPerSecond: 2 },
  TerminateInstances: { capacity: 100, refillPerSecond: 5 },
};

/** Resource token buckets (table "Resource token bucket sizes and refill rates"). */
const EC2_RESOURCE_LIMITS: Record<string, BucketLimits> = {
  RunInstances: { capacity: 1000, refillPerSecond: 2 },
  TerminateInstances: { capacity: 1000, refillPerSecond: 20 },
  StartInstances: { capacity: 1000, refillPerSecond: 2 },
  StopInstances: { capacity: 1000, refillPerSecond: 20 },
};

const NON_MUTATING_PREFIXES = ["Describe", "List", "Search", "Get"];

export function categorize(action: string, filteredOrPaginated: boolean): Ec2ThrottleCategory {
  if (action in EC2_UNCATEGORIZED_LIMITS) return "uncategorized";
  if (RESOURCE_INTENSIVE_ACTIONS.has(action)) return "resource-intensive";
  if (NON_MUTATING_PREFIXES.some((p) => action.startsWith(p))) {
    return UNFILTERED_ACTIONS.has(action) && !filteredOrPaginated
      ? "unfiltered-non-mutating"
      : "non-mutating";
  }
  return "mutating";
}

/** A token bucket refilled continuously on the simulated clock (also Step Functions' API buckets). */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    readonly limits: BucketLimits,
    now: number,
  ) {
    this.tokens = limits.capacity;
    this.updatedAt = now;
  }

  /** Tokens held now, after refilling for the simulated time elapsed since the last look. */
  available(now: number): number {
    const elapsedSeconds = Math.max(0, now - this.updatedAt) / 1000;
    this.tokens = Math.min(this.limits.capacity, this.tokens + elapsedSeconds * this.limits.refillPerSecond);
    this.updatedAt = Math.max(now, this.updatedAt);
    return this.tokens;
  }

  take(count: number): void {
    this.tokens -= count;
  }
}

export interface ThrottleDecision {
  allowed: boolean;
  bucket?: string;
}

export class Ec2Throttler {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly enabled: boolean;

  constructor(private readonly options: ThrottlingOptions = {}) {
    this.enabled = options.enabled ?? true;
  }

  /**
   * Charge one request to the action's bucket, and `resourceCount` tokens to its resource bucket if it has one.
   * Both must hold enough tokens; a throttled request takes nothing from either.
   */
  check(action: string, filteredOrPaginated: boolean, resourceCount: number, now: number): ThrottleDecision {
    if (!this.enabled) return { allowed: true };
    const category = categorize(action, filteredOrPaginated);
    const requestKey = category === "unfiltered-non-mutating" ? `${action}#unfiltered` : action;
    const requestLimits =
      this.options.actions?.[action] ??
      (category === "uncategorized" ? EC2_UNCATEGORIZED_LIMITS[action] : EC2_CATEGORY_LIMITS[category]);
    const requestBucket = requestLimits && this.bucket(`request:${requestKey}`, requestLimits, now);
    const resourceLimits = this.options.resources?.[action] ?? EC2_RESOURCE_LIMITS[action];
    const resourceBucket = resourceLimits && this.bucket(`resource:${action}`, resourceLimits, now);
    // Check both buckets before charging either, so a throttled request takes nothing.
    if (requestBucket && requestBucket.available(now) < 1) {
      return { allowed: false, bucket: `request:${requestKey}` };
    }
    if (resourceBucket && resourceBucket.available(now) < resourceCount) {
      return { allowed: false, bucket: `resource:${action}` };
    }
    requestBucket?.take(1);
    resourceBucket?.take(resourceCount);
    return { allowed: true };
  }

  private bucket(key: string, limits: BucketLimits, now: number): TokenBucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(limits, now);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }
}
