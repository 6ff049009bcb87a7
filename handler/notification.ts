/** What the responder publishes on the SNS topic. */
export interface Notification {
  readonly subject: string;
  readonly message: string;
}

/** SNS refuses a subject longer than this. */
const SNS_SUBJECT_MAX_LENGTH = 100;

/**
 * A subject SNS accepts, whatever went into it (pure): ASCII printable characters only, no line breaks or control
 * characters, 1 to 100 characters. EC2 tag values (the instance's Name) may hold any UTF-8, and a subject SNS
 * refuses would fail the publish on every attempt, so every subject passes through here. Line breaks, tabs and
 * other controls become spaces; other non-ASCII characters become "?" (a reader still sees that something was
 * there); the message body carries the text unchanged.
 */
function snsSubject(text: string): string {
  const printable = text
    // eslint-disable-next-line no-control-regex -- control characters are exactly what SNS refuses
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ")
    .replace(/[^\x20-\x7e]/gu, "?")
    .replace(/ {2,}/g, " ")
    .trim();
  if (printable === "") return "[IR] notification";
  if (printable.length <= SNS_SUBJECT_MAX_LENGTH) return printable;
  return `${printable.slice(0, SNS_SUBJECT_MAX_LENGTH - 3).trimEnd()}...`;
}

/** A notification whose subject is valid for SNS (see snsSubject). */
export function notification(subject: string, message: string): Notification {
  return { subject: snsSubject(subject), message };
}
