import { describe, expect, expectTypeOf, it } from 'vitest';
import { readCommandOptions, type CommandOptions } from '../../src/cli/command-specs.js';

describe('command options derive from the command metadata', () => {
  it('types each option by its spec: camelCase names, choices as unions, the positional by its arity', () => {
    expectTypeOf<CommandOptions<'run'>['dryRun']>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<CommandOptions<'run'>['strategy']>().toEqualTypeOf<'inference' | 'rounds' | undefined>();
    expectTypeOf<CommandOptions<'probe'>['hosts']>().toEqualTypeOf<string[] | undefined>();
    expectTypeOf<CommandOptions<'probe'>['port']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<CommandOptions<'lab'>['topology']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<CommandOptions<'plan'>['set']>().toEqualTypeOf<string[] | undefined>();
    expectTypeOf<CommandOptions<'status'>>().not.toHaveProperty('force');
  });

  it('reads what yargs parsed into exactly those options', () => {
    const parsed = {
      _: ['probe'],
      $0: 'relay-select',
      hosts: ['198.18.0.1'],
      port: 52312,
      'state-dir': '/tmp/x',
      stateDir: '/tmp/x',
      json: true,
      force: true,
    };
    expect(readCommandOptions('probe', parsed)).toEqual({
      hosts: ['198.18.0.1'],
      port: 52312,
      stateDir: '/tmp/x',
      json: true,
    });
  });

  it('refuses a value of another type than its spec says', () => {
    expect(() => readCommandOptions('run', { strategy: 'fastest' })).toThrow(/--strategy/);
    expect(() => readCommandOptions('probe', { port: '52311' })).toThrow(/--port/);
  });
});
