// What an incident responder asks of a running instance: a diagnostic interrupt (NMI), console output, a screenshot.
import {
  GetConsoleOutput$,
  GetConsoleScreenshot$,
  SendDiagnosticInterrupt$,
  type GetConsoleOutputRequest,
  type GetConsoleOutputResult,
  type GetConsoleScreenshotRequest,
  type GetConsoleScreenshotResult,
  type SendDiagnosticInterruptRequest,
} from "@aws-sdk/client-ec2";
import { AwsError } from "../../errors";
import { ignoreNmi, isKdumpReady, startKdump } from "../../lifecycle/kdump";
import {
  supportsDiagnosticInterrupt,
  supportsScreenshot,
  typeInfoOf,
  type InstanceTypeInfo,
} from "../../state/instanceTypes";
import type { Instance } from "../../state/model";
import type { World } from "../../state/world";
import { defineOperation, type QueryOperation } from "../../wire/queryProtocol";
import { find } from "./common";

/** A 1x1 grey baseline JPEG: what GetConsoleScreenshot returns (base64) where AWS supports it. */
const SCREENSHOT_JPEG =
  "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=";

/** The running instance an NMI or a screenshot is for; its type must support the action (`what` it does not). */
function runningInstanceSupporting(
  world: World,
  instanceId: string | undefined,
  supports: (info: InstanceTypeInfo) => boolean,
  what: string,
): Instance {
  const instance = find(world, world.instances, instanceId ?? "");
  if (!supports(typeInfoOf(instance))) {
    throw new AwsError(
      "UnsupportedOperation",
      `The instance '${instance.instanceId}' does not support ${what} (instance type ${instance.instanceType}).`,
    );
  }
  if (instance.state !== "running") {
    throw new AwsError(
      "IncorrectInstanceState",
      `The instance '${instance.instanceId}' is not in the 'running' state.`,
    );
  }
  return instance;
}

export function diagnosticOperations(world: World): Record<string, QueryOperation> {
  return {
    SendDiagnosticInterrupt: defineOperation<SendDiagnosticInterruptRequest, void>(
      SendDiagnosticInterrupt$,
      { mutating: true },
      (input, ctx) => {
        const instance = runningInstanceSupporting(
          world,
          input.InstanceId,
          supportsDiagnosticInterrupt,
          "diagnostic interrupts",
        );
        ctx.dryRunGate();
        if (instance.dumpInProgressUntil !== undefined) return; // already in the crash kernel: no second dump
        if (isKdumpReady(world, instance)) startKdump(world, instance);
        else ignoreNmi(instance);
      },
    ),

    GetConsoleOutput: defineOperation<GetConsoleOutputRequest, GetConsoleOutputResult>(
      GetConsoleOutput$,
      { mutating: false },
      (input) => {
        const instance = find(world, world.instances, input.InstanceId ?? "");
        // AWS keeps the last 64 KB of serial console output.
        const output = Buffer.from(instance.consoleOutput, "utf8").subarray(-64 * 1024);
        return {
          InstanceId: instance.instanceId,
          Timestamp: new Date(world.now()),
          Output: output.toString("base64"),
        };
      },
    ),

    GetConsoleScreenshot: defineOperation<GetConsoleScreenshotRequest, GetConsoleScreenshotResult>(
      GetConsoleScreenshot$,
      { mutating: false },
      (input) => {
        const instance = runningInstanceSupporting(
          world,
          input.InstanceId,
          supportsScreenshot,
          "console screenshots",
        );
        return { InstanceId: instance.instanceId, ImageData: SCREENSHOT_JPEG };
      },
    ),
  };
}
