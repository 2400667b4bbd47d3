import type { Output } from './output.js';

/** What every command gets from main: where to write, the environment, who we are. */
export interface CliContext {
  output: Output;
  env: NodeJS.ProcessEnv;
  cwd: string;
  uid: number;
  version: string;
}

/** The options every command accepts (command-specs.ts GLOBAL_OPTIONS). */
export interface GlobalArguments {
  json?: boolean;
  config?: string;
  clientSettings?: string;
  relays?: string;
  stateDir?: string;
  seekList?: string;
  strategy?: string;
  profile?: string;
  set?: string[];
  quiet?: boolean;
  verbose?: boolean;
}

export interface CommandModule {
  run(options: never, context: CliContext): Promise<number>;
}
