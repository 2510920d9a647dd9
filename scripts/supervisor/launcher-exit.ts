import type { Supervisor } from './supervisor';

/**
 * Ties the launcher's own end to its children: SIGINT (Ctrl-C), SIGTERM and SIGHUP (the terminal closed)
 * stop them gracefully, and so does an exception nobody caught in the launcher; then the launcher exits.
 * If it exits some other way (process.exit elsewhere), each child still gets one SIGTERM on the way
 * out. SIGKILL cannot be caught: the children's parent-watch preload covers it.
 * The exit code is 0 after a requested stop, 1 after a give-up or a launcher error.
 */
export function stopChildrenWithLauncher(
  supervisor: Supervisor,
  log: (line: string) => void,
  exit: (code: number) => void | Promise<void> = (code) => process.exit(code),
): void {
  let failed = false;
  const stop = (why: string): void => {
    log(`[modelsmith] ${why}: stopping…`);
    void supervisor.stop(why);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(signal, () => stop(`received ${signal}`));
  const crashed = (e: unknown): void => {
    // Once: a launcher whose output is gone (the terminal closed) would fail again on every line it logs.
    if (failed) return;
    failed = true;
    log(`[modelsmith] launcher error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    stop('launcher error');
  };
  process.on('uncaughtException', crashed);
  process.on('unhandledRejection', crashed);
  process.on('exit', () => supervisor.terminateAll());
  void supervisor.done.then((outcome) => exit(failed || outcome.reason === 'gave-up' ? 1 : 0));
}
