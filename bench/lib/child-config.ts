/** The configuration the runner passes to a child process as its single JSON argument. */
export interface ChildConfig {
  /** Contender name (a directory under bench/contenders). */
  readonly contender: string;
  /** Workload name (see bench/lib/workloads.ts); unused by server processes. */
  readonly workload: string;
  /** The server's address (client processes only). */
  readonly address?: string;
  /** Directory for Unix domain sockets. */
  readonly socketDir: string;
  /** Timed runs. */
  readonly runs: number;
  /** Seconds per timed run. */
  readonly seconds: number;
  /** Warm-up seconds before the first timed run. */
  readonly warmupSeconds: number;
}

/** Parses the child's JSON argument. */
export function readChildConfig(): ChildConfig {
  const arg = process.argv[2];
  if (arg === undefined) throw new Error("missing JSON configuration argument");
  return JSON.parse(arg) as ChildConfig;
}
