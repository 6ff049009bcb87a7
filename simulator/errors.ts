/** An error the simulator answers with, as AWS would: code, message, HTTP status, and who is at fault. */
export class AwsError extends Error {
  override readonly name = "AwsError";

  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus = 400,
  ) {
    super(message);
  }

  get fault(): "Sender" | "Receiver" {
    return this.httpStatus >= 500 ? "Receiver" : "Sender";
  }
}
