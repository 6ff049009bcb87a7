// What a command prints: a result, human-readable or as JSON (--json, for scripts), and progress lines for
// anything that waits, on stderr so they never mix with a result a script parses.

/** The process's streams and environment, or a test's. */
export interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Readonly<Record<string, string | undefined>>;
}

export const processIo = (): Io => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

export class Output {
  constructor(
    private readonly io: Io,
    readonly json: boolean,
  ) {}

  /** The command's result: `data` as JSON with --json, else the human lines. */
  result(data: unknown, human: () => readonly string[]): void {
    const text = this.json ? JSON.stringify(data, null, 2) : human().join("\n");
    this.io.stdout.write(`${text}\n`);
  }

  /** A line about something under way (a wait, a call made); on stderr, also with --json. */
  progress(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }

  error(message: string): void {
    this.io.stderr.write(`ir: ${message}\n`);
  }
}

/** Rows as aligned columns, the header first. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
