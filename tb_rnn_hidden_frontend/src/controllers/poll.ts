/**
 * Periodic polling that pauses while the page is hidden.
 *
 * Kept free of the rest of the app (and of `document`, which is passed in) so
 * that its timing rules can be unit-tested under Node.
 */

/** The part of `document` the poller needs. */
export interface VisibilitySource {
  readonly visibilityState: DocumentVisibilityState;
  addEventListener(type: "visibilitychange", listener: () => void): void;
  removeEventListener(type: "visibilitychange", listener: () => void): void;
}

export interface Poller {
  /** Stops for good: no further calls, pending or future. */
  stop(): void;
}

/**
 * Calls `poll` now, then `intervalMs` after each call has settled, while
 * `doc` is visible. Calls never overlap. When a hidden page becomes visible
 * again, a call that is due (or overdue) runs then, not a full interval later.
 * `poll` should handle its own errors; a rejection is swallowed so that
 * polling goes on.
 */
export function startPolling(
  poll: () => Promise<void>,
  intervalMs: number,
  doc: VisibilitySource,
): Poller {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let stopped = false;
  let lastEnd = -Infinity; // when the last call settled

  const schedule = (delayMs: number) => {
    clearTimeout(timer);
    timer = undefined;
    if (stopped || running || doc.visibilityState !== "visible") return;
    timer = setTimeout(() => void run(), Math.max(0, delayMs));
  };

  const run = async () => {
    if (stopped || running) return;
    clearTimeout(timer);
    timer = undefined;
    running = true;
    try {
      await poll();
    } catch {
      // The caller reports its own errors; polling must survive them.
    } finally {
      running = false;
      lastEnd = Date.now();
    }
    schedule(intervalMs);
  };

  const onVisibilityChange = () => schedule(lastEnd + intervalMs - Date.now());
  doc.addEventListener("visibilitychange", onVisibilityChange);
  void run();

  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      doc.removeEventListener("visibilitychange", onVisibilityChange);
    },
  };
}
