import type { Output } from './output.js';

/** What every command gets from main: where to write, the environment, who we are. */
export interface CliContext {
  output: Output;
  env: NodeJS.ProcessEnv;
  cwd: string;
  uid: number;
  version: string;
}
