/**
 * Preloaded (`node --require`) into every child of the launcher: the child stops when the launcher goes
 * away, however it went (SIGKILL cannot be caught, so the launcher cannot stop its children itself).
 * The launcher holds an IPC channel to each child; the channel closing means the launcher is gone. The
 * child then sends itself one SIGTERM (its graceful shutdown: the worker checkpoints its job) and, should
 * it hang, a SIGKILL after the grace the launcher gave it. Nothing happens in a process started without
 * an IPC channel.
 */
import { GRACE_ENV, isStoppingNotice } from './protocol';

const DEFAULT_GRACE_MS = 60_000;

if (typeof process.send === 'function' && process.channel) {
  let stopping = false;
  process.on('message', (message: unknown) => {
    if (isStoppingNotice(message)) stopping = true;
  });
  process.once('disconnect', () => {
    const grace = Number(process.env[GRACE_ENV]);
    const graceMs = Number.isFinite(grace) && grace > 0 ? grace : DEFAULT_GRACE_MS;
    // Already told to stop (and SIGTERMed): a second SIGTERM would cut the drain short.
    if (!stopping) {
      process.stderr.write(`[modelsmith] launcher gone; process ${process.pid} stopping\n`);
      process.kill(process.pid, 'SIGTERM');
    }
    setTimeout(() => {
      process.stderr.write(
        `[modelsmith] process ${process.pid} still running ${graceMs} ms after its launcher went; killing it\n`,
      );
      process.kill(process.pid, 'SIGKILL');
    }, graceMs).unref();
  });
  // The listeners above must not keep an otherwise finished process alive.
  process.channel.unref();
}
