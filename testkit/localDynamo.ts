// A real DynamoDB-compatible server (dynalite: DynamoDB's API and validation, conditional writes included) on an
// ephemeral loopback port, in process: the incident table for drills, benchmarks and tests.
import type { AddressInfo, Server } from "net";

export interface LocalDynamo {
  endpoint: string;
  stop(): Promise<void>;
}

export async function startDynalite(): Promise<LocalDynamo> {
  const dynalite = require("dynalite") as (options: Record<string, unknown>) => Server;
  // In memory, and tables become ACTIVE at once instead of after DynamoDB's realistic delay.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
