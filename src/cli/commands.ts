/**
 * Subcommands (`wirescope follow ...`, `wirescope ping ...`). Each lives in its own module,
 * loaded only when named, so the packet-printing path does not pay for them.
 * A command module exports `run(argv)`, resolving to the exit status.
 */
export interface CommandModule {
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  follow: () => import('./follow.js'),
  conns: () => import('./conns.js'),
  http: () => import('./http.js'),
  tls: () => import('./tls.js'),
  ping: () => import('./ping.js'),
  traceroute: () => import('./traceroute.js'),
  arping: () => import('./arping.js'),
  handshake: () => import('./handshake.js'),
};

/** The loader of the subcommand named by argv[0], if it names one. */
export function subcommand(name: string | undefined): (() => Promise<CommandModule>) | undefined {
  return name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
}
