/**
 * Kicking a thread out of a blocking system call (KVM_RUN, epoll_wait).
 *
 * A thread that may be kicked calls {@link currentThread} and hands the
 * result to whoever will kick it; {@link kickThread} sends the kick signal to
 * exactly that thread. The signal's handler does nothing: its only effect is
 * that the blocked call returns EINTR (the handler is installed without
 * SA_RESTART). The kick signal is SIGRTMIN + 4, which Node does not use.
 */
import { check } from './errors.js';
import { native } from './native.js';

let installed = false;

/** The signal number used for kicks. */
export function kickSignal(): number {
  return native().sigrtmin() + 4;
}

/** A handle to the calling OS thread that another thread can kick. */
export interface ThreadHandle {
  /** pthread_t of the thread. */
  readonly pthread: bigint;
  /** Linux thread id, for diagnostics. */
  readonly tid: number;
}

/** Installs the (process-wide) kick handler once and names the calling thread. */
export function currentThread(): ThreadHandle {
  if (!installed) {
    check(native().installKickHandler(kickSignal()), 'sigaction');
    installed = true;
  }
  return { pthread: native().threadSelf(), tid: native().gettid() };
}

/**
 * Interrupts the blocking system call the thread is in. A kick that arrives
 * while the thread is not blocked is lost, so pair it with a flag the thread
 * checks before it blocks again (for KVM_RUN: `kvm_run.immediate_exit`).
 */
export function kickThread(thread: ThreadHandle): void {
  if (typeof thread?.pthread !== 'bigint')
    throw new TypeError('thread must be a ThreadHandle from currentThread()');
  check(native().threadKill(thread.pthread, kickSignal()), 'pthread_kill');
}
