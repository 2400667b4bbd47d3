import type { Output } from './output.js';

/** What every command gets from main: where to write, the environment, who we are. */
export interface CliContext {
  output: Output;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The effective user id: 0 means root, with the file trust of DESIGN §12. */
  uid: number;
  version: string;
  /** Fires on SIGINT or SIGTERM: a command stops at a safe point and returns (main decides the status). */
  signal: AbortSignal;
}
